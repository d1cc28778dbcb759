//===- QuantizeGGUF.cpp - requantize the weights of a GGUF file -----------===//

#include "lib/Quantize/QuantizeGGUF.h"
#include "lib/GGUF/GGUFWriter.h"
#include "lib/Quantize/Codecs.h"

#include <algorithm>
#include <cmath>
#include <thread>

using namespace kvant::quantize;
using kvant::formats::GGMLTypeInfo;
using kvant::formats::lookupGGMLType;

//===----------------------------------------------------------------------===//
// Keep rules and type names
//===----------------------------------------------------------------------===//

std::unique_ptr<KeepRule> KeepRule::parse(const std::string &spec,
                                          std::string &error) {
  size_t eq = spec.rfind('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
    error = "--keep '" + spec + "': expected REGEX=TYPE";
    return nullptr;
  }
  std::string typeName = spec.substr(eq + 1);
  // Any type kvant knows: a tensor already of that type is copied, so
  // `--keep NAME=Q8_1` keeps a type that cannot be produced.
  const GGMLTypeInfo *type = lookupGGMLType(typeName);
  if (!type) {
    error = "--keep '" + spec + "': unknown type '" + typeName +
            "' (quantizes to: " + listTargetTypes() + ")";
    return nullptr;
  }
  std::unique_ptr<KeepRule> rule(new KeepRule());
  rule->pattern = spec.substr(0, eq);
  rule->type = type;
  // Anchored: the expression must match the whole name, so 'output.weight'
  // does not also select 'blk.0.attn_output.weight'.
  std::string anchored = "^(" + rule->pattern + ")$";
  if (int rc =
          regcomp(&rule->regex, anchored.c_str(), REG_EXTENDED | REG_NOSUB)) {
    char message[256];
    regerror(rc, &rule->regex, message, sizeof(message));
    error = "--keep '" + spec + "': bad regular expression '" + rule->pattern +
            "': " + message;
    rule->type = nullptr; // Nothing compiled: the destructor must not free.
    return nullptr;
  }
  return rule;
}

KeepRule::~KeepRule() {
  if (type)
    regfree(&regex);
}

bool KeepRule::matches(const std::string &name) const {
  return regexec(&regex, name.c_str(), 0, nullptr, 0) == 0;
}

const GGMLTypeInfo *kvant::quantize::lookupTargetType(const std::string &name) {
  const GGMLTypeInfo *type = lookupGGMLType(name);
  if (!type)
    return nullptr;
  const Codec *codec = lookupCodec(type->id);
  return codec && codec->quantize ? type : nullptr;
}

std::string kvant::quantize::listTargetTypes() {
  std::string list;
  for (const GGMLTypeInfo *type : quantizableTypes())
    list += (list.empty() ? "" : ", ") + std::string(type->name);
  return list;
}

//===----------------------------------------------------------------------===//
// Planning
//===----------------------------------------------------------------------===//

const GGMLTypeInfo &kvant::quantize::fallbackType(const GGMLTypeInfo &type,
                                                  int64_t rowLength) {
  if (rowLength % type.blockSize == 0)
    return type;
  const char *name = "F16";
  if (type.name == "TQ1_0" || type.name == "TQ2_0")
    name = "Q4_0";
  else if (type.name == "Q2_K" || type.name == "Q3_K")
    name = "IQ4_NL";
  else if (type.name == "Q4_K")
    name = "Q5_0";
  else if (type.name == "Q5_K")
    name = "Q5_1";
  else if (type.name == "Q6_K")
    name = "Q8_0";
  const GGMLTypeInfo *fallback = lookupGGMLType(name);
  if (rowLength % fallback->blockSize != 0)
    fallback = lookupGGMLType("F16");
  return *fallback;
}

std::optional<uint32_t>
kvant::quantize::fileTypeFor(const GGMLTypeInfo &target) {
  static const std::pair<std::string_view, uint32_t> kFileTypes[] = {
      {"F32", 0},    {"F16", 1},    {"Q4_0", 2},    {"Q4_1", 3},  {"Q8_0", 7},
      {"Q5_0", 8},   {"Q5_1", 9},   {"Q2_K", 10},   {"Q3_K", 11}, {"Q4_K", 14},
      {"Q5_K", 16},  {"Q6_K", 18},  {"IQ4_NL", 25}, {"BF16", 32}, {"TQ1_0", 36},
      {"TQ2_0", 37}, {"MXFP4", 38},
  };
  for (const auto &[name, fileType] : kFileTypes)
    if (name == target.name)
      return fileType;
  return std::nullopt;
}

bool kvant::quantize::planTensors(
    const gguf::GGUFFile &file, const GGMLTypeInfo &target,
    const std::vector<std::unique_ptr<KeepRule>> &keep,
    std::vector<TensorPlan> &plans, std::string &error) {
  plans.clear();
  for (const gguf::TensorInfo &tensor : file.getTensors()) {
    TensorPlan plan;
    plan.tensor = &tensor;
    const GGMLTypeInfo *wanted = nullptr;
    for (const auto &rule : keep)
      if (rule->matches(tensor.name)) {
        wanted = &rule->getType();
        plan.note = "--keep '" + rule->getPattern() + "'";
        break;
      }
    bool isWeightMatrix =
        tensor.dims.size() >= 2 && tensor.name.size() >= 6 &&
        tensor.name.compare(tensor.name.size() - 6, 6, "weight") == 0;
    if (!wanted && !isWeightMatrix) {
      plan.type = tensor.type;
      plan.copy = true;
      plan.note =
          tensor.dims.size() < 2 ? "1-D, unchanged" : "not a weight, unchanged";
      plans.push_back(std::move(plan));
      continue;
    }
    if (!wanted)
      wanted = &target;
    const GGMLTypeInfo &type = fallbackType(*wanted, tensor.dims[0]);
    if (&type != wanted) {
      if (!plan.note.empty())
        plan.note += "; ";
      plan.note += "fallback: row of " + std::to_string(tensor.dims[0]) +
                   " is not a multiple of " + std::string(wanted->name) +
                   "'s block of " + std::to_string(wanted->blockSize);
    }
    plan.type = &type;
    plan.copy = &type == tensor.type;
    if (!plan.copy) {
      const Codec *codec = lookupCodec(tensor.type->id);
      const Codec *encoder = lookupCodec(type.id);
      if (!encoder || !encoder->quantize) {
        error = file.getName() + ": tensor '" + tensor.name + "' (" +
                std::string(tensor.type->name) + "): " + plan.note +
                " asks for " + std::string(type.name) +
                ", which kvant-quantize cannot produce";
        return false;
      }
      if (!codec || !codec->dequantize) {
        error = file.getName() + ": tensor '" + tensor.name + "' has type " +
                std::string(tensor.type->name) +
                ", which kvant-quantize cannot decode (keep it with --keep '" +
                tensor.name + "=" + std::string(tensor.type->name) + "')";
        return false;
      }
    }
    plans.push_back(std::move(plan));
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Conversion
//===----------------------------------------------------------------------===//

namespace {
/// Converts rows [begin, end) of a tensor, recording each row's squared
/// error sum and largest absolute error.
void convertRows(const uint8_t *in, uint8_t *out, int64_t begin, int64_t end,
                 int64_t rowLength, int64_t inRowBytes, int64_t outRowBytes,
                 const Codec &decode, const Codec &encode,
                 std::vector<double> &rowSquares, std::vector<float> &rowMax) {
  std::vector<float> original(rowLength), decoded(rowLength);
  for (int64_t r = begin; r < end; ++r) {
    decode.dequantize(in + r * inRowBytes, original.data(), rowLength);
    encode.quantize(original.data(), out + r * outRowBytes, rowLength);
    encode.dequantize(out + r * outRowBytes, decoded.data(), rowLength);
    double squares = 0;
    float maxError = 0;
    for (int64_t i = 0; i < rowLength; ++i) {
      float diff = std::fabs(decoded[i] - original[i]);
      squares += double(diff) * diff;
      maxError = std::max(maxError, diff);
    }
    rowSquares[r] = squares;
    rowMax[r] = maxError;
  }
}
} // namespace

bool kvant::quantize::writeQuantized(
    const gguf::GGUFFile &file, const std::vector<TensorPlan> &plans,
    const GGMLTypeInfo &target, const std::string &outPath, unsigned threads,
    const std::function<void(const TensorPlan &, const TensorResult &)> &report,
    std::string &error) {
  gguf::GGUFWriter writer(file.getAlignment());
  writer.copyMetadata(file);
  if (std::optional<uint32_t> fileType = fileTypeFor(target))
    writer.setUInt32("general.file_type", *fileType);
  bool anyQuantized = false;
  for (const TensorPlan &plan : plans) {
    writer.addTensor(plan.tensor->name, plan.tensor->dims, *plan.type);
    anyQuantized |= plan.type->isQuantized;
  }
  if (anyQuantized) // GGML_QNT_VERSION, as llama-quantize writes it.
    writer.setUInt32("general.quantization_version", 2);
  if (!writer.begin(outPath, error))
    return false;

  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  for (const TensorPlan &plan : plans) {
    const gguf::TensorInfo &tensor = *plan.tensor;
    const uint8_t *in = file.getTensorData(tensor);
    TensorResult result;
    result.bytesIn = tensor.numBytes;
    if (plan.copy) {
      result.bytesOut = tensor.numBytes;
      if (!writer.write(in, tensor.numBytes, error) || !writer.endTensor(error))
        return false;
      report(plan, result);
      continue;
    }
    int64_t rowLength = tensor.dims[0];
    int64_t rows = tensor.numElements / rowLength;
    int64_t inRowBytes = formats::rowBytes(*tensor.type, rowLength);
    int64_t outRowBytes = formats::rowBytes(*plan.type, rowLength);
    const Codec &decode = *lookupCodec(tensor.type->id);
    const Codec &encode = *lookupCodec(plan.type->id);
    std::vector<uint8_t> out(size_t(rows * outRowBytes));
    std::vector<double> rowSquares(rows);
    std::vector<float> rowMax(rows);
    int64_t workers = std::min<int64_t>(threads, rows);
    std::vector<std::thread> pool;
    for (int64_t w = 0; w < workers; ++w)
      pool.emplace_back(convertRows, in, out.data(), rows * w / workers,
                        rows * (w + 1) / workers, rowLength, inRowBytes,
                        outRowBytes, std::cref(decode), std::cref(encode),
                        std::ref(rowSquares), std::ref(rowMax));
    for (std::thread &thread : pool)
      thread.join();
    // Summed in row order: the result does not depend on the thread count.
    double squares = 0;
    for (int64_t r = 0; r < rows; ++r) {
      squares += rowSquares[r];
      result.maxAbsError = std::max<double>(result.maxAbsError, rowMax[r]);
    }
    result.rmse = std::sqrt(squares / double(tensor.numElements));
    result.bytesOut = out.size();
    if (!writer.write(out.data(), out.size(), error) ||
        !writer.endTensor(error))
      return false;
    report(plan, result);
  }
  return writer.finish(error);
}
