//===- kvant-quantize.cpp - requantize a GGUF file's weights --------------===//
//
// kvant-quantize IN.gguf OUT.gguf --type TYPE [--keep REGEX=TYPE ...]
// Decodes every weight matrix to f32 and quantizes it to TYPE (rules in
// lib/Quantize/QuantizeGGUF.h), printing each tensor's error against the
// input and the totals. Bad input gets a message naming the file or option
// and exit code 1.
//
//===----------------------------------------------------------------------===//

#include "lib/GGUF/GGUFFile.h"
#include "lib/Quantize/QuantizeGGUF.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace kvant;
using namespace kvant::quantize;

namespace {
const char *kUsage =
    "usage: kvant-quantize IN.gguf OUT.gguf --type TYPE [--keep REGEX=TYPE]... "
    "[--threads N]\n";

int fail(const std::string &message) {
  std::fprintf(stderr, "kvant-quantize: error: %s\n", message.c_str());
  return 1;
}

std::string shapeOf(const gguf::TensorInfo &tensor) {
  std::string shape;
  for (size_t d = 0; d < tensor.dims.size(); ++d)
    shape += (d ? "x" : "") + std::to_string(tensor.dims[d]);
  return shape;
}

/// The value of option `name` at argv[i] ("--name=V" or "--name V"),
/// advancing i; null if argv[i] is not that option.
const char *optionValue(int argc, char **argv, int &i, const char *name,
                        bool &missing) {
  size_t length = std::strlen(name);
  if (std::strncmp(argv[i], name, length) != 0)
    return nullptr;
  if (argv[i][length] == '=')
    return argv[i] + length + 1;
  if (argv[i][length] != '\0')
    return nullptr;
  if (i + 1 >= argc) {
    missing = true;
    return nullptr;
  }
  return argv[++i];
}
} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> paths;
  std::string typeName;
  std::vector<std::unique_ptr<KeepRule>> keep;
  unsigned threads = 0;
  for (int i = 1; i < argc; ++i) {
    bool missing = false;
    std::string error;
    if (!std::strcmp(argv[i], "-h") || !std::strcmp(argv[i], "--help")) {
      std::printf("%s"
                  "Requantizes the weight matrices of a GGUF file to TYPE "
                  "(one of %s);\n"
                  "1-D tensors are copied. --keep gives tensors whose whole "
                  "name matches REGEX\n"
                  "(POSIX extended) TYPE instead; the first matching rule "
                  "wins.\n",
                  kUsage, listTargetTypes().c_str());
      return 0;
    }
    if (const char *value = optionValue(argc, argv, i, "--type", missing)) {
      typeName = value;
    } else if (const char *value =
                   optionValue(argc, argv, i, "--keep", missing)) {
      std::unique_ptr<KeepRule> rule = KeepRule::parse(value, error);
      if (!rule)
        return fail(error);
      keep.push_back(std::move(rule));
    } else if (const char *value =
                   optionValue(argc, argv, i, "--threads", missing)) {
      char *end = nullptr;
      long n = std::strtol(value, &end, 10);
      if (*value == '\0' || *end != '\0' || n < 1 || n > 1024)
        return fail(std::string("--threads '") + value +
                    "': expected a number from 1 to 1024");
      threads = unsigned(n);
    } else if (missing) {
      return fail(std::string(argv[i]) + " needs a value");
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      return fail(std::string("unknown option '") + argv[i] + "'\n" + kUsage);
    } else {
      paths.push_back(argv[i]);
    }
  }
  if (paths.size() != 2)
    return fail(std::string(paths.size() < 2 ? "expected"
                                             : "too many files: "
                                               "expected") +
                " an input and an output file\n" + kUsage);
  if (typeName.empty())
    return fail(std::string("--type is required\n") + kUsage);
  const formats::GGMLTypeInfo *target = lookupTargetType(typeName);
  if (!target)
    return fail("--type '" + typeName + "': unknown or unsupported type " +
                "(supported: " + listTargetTypes() + ")");

  std::string error;
  std::unique_ptr<gguf::GGUFFile> file = gguf::GGUFFile::open(paths[0], error);
  if (!file)
    return fail(error);
  std::vector<TensorPlan> plans;
  if (!planTensors(*file, *target, keep, plans, error))
    return fail(error);

  std::printf("%s -> %s: %zu tensors, target %s\n", paths[0].c_str(),
              paths[1].c_str(), plans.size(),
              std::string(target->name).c_str());
  uint64_t bytesIn = 0, bytesOut = 0, elements = 0;
  auto report = [&](const TensorPlan &plan, const TensorResult &result) {
    const gguf::TensorInfo &tensor = *plan.tensor;
    std::string types =
        std::string(tensor.type->name) + " -> " + std::string(plan.type->name);
    std::printf("  %-32s %-16s %-12s %10" PRIu64 " -> %10" PRIu64
                " bytes  rmse %.6e  max %.6e%s%s%s\n",
                tensor.name.c_str(), types.c_str(), shapeOf(tensor).c_str(),
                result.bytesIn, result.bytesOut, result.rmse,
                result.maxAbsError, plan.note.empty() ? "" : "  (",
                plan.note.c_str(), plan.note.empty() ? "" : ")");
    std::fflush(stdout);
    bytesIn += result.bytesIn;
    bytesOut += result.bytesOut;
    elements += uint64_t(tensor.numElements);
  };
  if (!writeQuantized(*file, plans, *target, paths[1], threads, report, error))
    return fail(error);
  double bits = elements ? 8.0 / double(elements) : 0;
  std::printf("total: %" PRIu64 " -> %" PRIu64
              " bytes (%.2f -> %.2f MiB), %.3f -> %.3f bits/weight\n",
              bytesIn, bytesOut, bytesIn / 1048576.0, bytesOut / 1048576.0,
              bytesIn * bits, bytesOut * bits);
  return 0;
}
