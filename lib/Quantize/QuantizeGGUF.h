//===- QuantizeGGUF.h - requantize the weights of a GGUF file ---*- C++ -*-===//
//
// The model-level half of kvant-quantize: which type each tensor gets
// (planTensors, llama-quantize's rules) and the rewrite of the file
// (writeQuantized), measuring each tensor's error against the input.
// Plain C++ with no LLVM/MLIR dependency.
//
//===----------------------------------------------------------------------===//

#ifndef KVANT_LIB_QUANTIZE_QUANTIZEGGUF_H
#define KVANT_LIB_QUANTIZE_QUANTIZEGGUF_H

#include "lib/Formats/GGMLTypes.h"
#include "lib/GGUF/GGUFFile.h"

#include <functional>
#include <memory>
#include <optional>
#include <regex.h>
#include <string>
#include <vector>

namespace kvant::quantize {

/// A `--keep REGEX=TYPE` rule: tensors whose whole name matches REGEX (a
/// POSIX extended regular expression) get TYPE.
class KeepRule {
public:
  /// Parses `spec`; the last '=' separates the expression from the type
  /// (any GGML type kvant knows; planTensors rejects a conversion to one it
  /// cannot produce). Returns null and sets `error` on bad syntax, a bad
  /// expression or an unknown type.
  static std::unique_ptr<KeepRule> parse(const std::string &spec,
                                         std::string &error);
  ~KeepRule();
  KeepRule(const KeepRule &) = delete;
  KeepRule &operator=(const KeepRule &) = delete;

  bool matches(const std::string &name) const;
  const std::string &getPattern() const { return pattern; }
  const formats::GGMLTypeInfo &getType() const { return *type; }

private:
  KeepRule() = default;
  std::string pattern;
  const formats::GGMLTypeInfo *type = nullptr;
  regex_t regex;
};

/// The type named `name` if kvant can quantize to it, else null.
const formats::GGMLTypeInfo *lookupTargetType(const std::string &name);
/// "F32, F16, ..." for diagnostics.
std::string listTargetTypes();

/// The type a row of `rowLength` values gets when `type`'s block size does
/// not divide it (llama.cpp's rule): TQ1_0/TQ2_0 -> Q4_0; Q2_K, Q3_K ->
/// IQ4_NL; Q4_K -> Q5_0; Q5_K -> Q5_1; Q6_K -> Q8_0; anything else, or a
/// fallback that does not fit either, -> F16.
const formats::GGMLTypeInfo &fallbackType(const formats::GGMLTypeInfo &type,
                                          int64_t rowLength);

/// llama.cpp's general.file_type (llama_ftype) for a file quantized to
/// `target`; Q3_K, Q4_K and Q5_K map to their _S variants.
std::optional<uint32_t> fileTypeFor(const formats::GGMLTypeInfo &target);

struct TensorPlan {
  const gguf::TensorInfo *tensor = nullptr;
  const formats::GGMLTypeInfo *type = nullptr; ///< The output type.
  /// The bytes are copied unchanged (same type, or not a weight matrix).
  bool copy = false;
  /// Why `type` is not the target, empty when it is.
  std::string note;
};

/// Decides every tensor's output type: the first matching keep rule, else
/// `target` for weight matrices (2+ dimensions, name ending in "weight"),
/// else unchanged; then fallbackType for rows the type cannot hold. Fails
/// (naming the tensor) when a tensor must be converted from a type kvant
/// cannot decode.
bool planTensors(const gguf::GGUFFile &file,
                 const formats::GGMLTypeInfo &target,
                 const std::vector<std::unique_ptr<KeepRule>> &keep,
                 std::vector<TensorPlan> &plans, std::string &error);

struct TensorResult {
  uint64_t bytesIn = 0, bytesOut = 0;
  /// Over the tensor, output decoded vs input decoded.
  double rmse = 0, maxAbsError = 0;
};

/// Writes `plans` (from planTensors on `file`) to `outPath` atomically: the
/// metadata copied, general.file_type set for `target`, the input's
/// alignment kept. Converts rows on `threads` threads (0: one per core)
/// and calls `report` after each tensor.
bool writeQuantized(
    const gguf::GGUFFile &file, const std::vector<TensorPlan> &plans,
    const formats::GGMLTypeInfo &target, const std::string &outPath,
    unsigned threads,
    const std::function<void(const TensorPlan &, const TensorResult &)> &report,
    std::string &error);

} // namespace kvant::quantize

#endif // KVANT_LIB_QUANTIZE_QUANTIZEGGUF_H
