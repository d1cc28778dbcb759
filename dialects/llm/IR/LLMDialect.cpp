//===- LLMDialect.cpp - llm dialect, types and attributes ----------------===//

#include "dialects/llm/IR/LLMDialect.h"
#include "dialects/llm/IR/LLMOps.h"
#include "dialects/qt/IR/QtDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace mlir;
using namespace kvant::llm;

#include "dialects/llm/IR/LLMDialect.cpp.inc"
#include "dialects/llm/IR/LLMEnums.cpp.inc"

#include "dialects/llm/IR/LLMAttrInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/llm/IR/LLMAttrs.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/llm/IR/LLMTypes.cpp.inc"

void LLMDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/llm/IR/LLMAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialects/llm/IR/LLMOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Attention masks
//===----------------------------------------------------------------------===//

bool CausalMaskAttr::isVisible(int64_t query, int64_t key) const {
  return key <= query;
}

LogicalResult
SlidingWindowMaskAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              int64_t window) {
  if (window <= 0)
    return emitError() << "sliding window must be positive, got " << window;
  return success();
}

bool SlidingWindowMaskAttr::isVisible(int64_t query, int64_t key) const {
  return key <= query && query - key < getWindow();
}

LogicalResult
SinkWindowMaskAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                           int64_t sink, int64_t window,
                           std::optional<int64_t> maxDistance) {
  if (sink <= 0)
    return emitError() << "sink count must be positive, got " << sink;
  if (window <= 0)
    return emitError() << "window must be positive, got " << window;
  if (maxDistance && *maxDistance <= window)
    return emitError() << "max_distance " << *maxDistance
                       << " must exceed the window " << window;
  return success();
}

bool SinkWindowMaskAttr::isVisible(int64_t query, int64_t key) const {
  if (key > query)
    return false;
  int64_t distance = query - key;
  if (distance < getWindow())
    return true;
  std::optional<int64_t> maxDistance = getMaxDistance();
  return key < getSink() && (!maxDistance || distance < *maxDistance);
}

LogicalResult
BlockSparseMaskAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                            int64_t block, int64_t local, int64_t global) {
  if (block <= 0)
    return emitError() << "block size must be positive, got " << block;
  if (local <= 0)
    return emitError() << "local block count must be positive, got " << local;
  if (global < 0)
    return emitError() << "global block count must be non-negative, got "
                       << global;
  return success();
}

bool BlockSparseMaskAttr::isVisible(int64_t query, int64_t key) const {
  if (key > query)
    return false;
  int64_t keyBlock = key / getBlock();
  return query / getBlock() - keyBlock < getLocal() || keyBlock < getGlobal();
}

bool TreeMaskAttr::isVisible(int64_t query, int64_t key) const {
  return key <= query;
}

bool TreeMaskAttr::needsMaskOperand() const { return true; }

//===----------------------------------------------------------------------===//
// SamplingAttr
//===----------------------------------------------------------------------===//

LogicalResult SamplingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   FloatAttr temperature, int64_t topK,
                                   FloatAttr topP, uint64_t seed) {
  if (!temperature) {
    if (topK != 0 || topP || seed != 0)
      return emitError() << "greedy sampling takes no top_k, top_p or seed";
    return success();
  }
  double t = temperature.getValueAsDouble();
  if (!(t > 0.0) || std::isinf(t))
    return emitError() << "temperature must be positive and finite, got " << t;
  if (topK < 0)
    return emitError() << "top_k must be non-negative, got " << topK;
  if (topP) {
    double p = topP.getValueAsDouble();
    if (!(p > 0.0 && p <= 1.0))
      return emitError() << "top_p must be in (0, 1], got " << p;
  }
  return success();
}

Attribute SamplingAttr::parse(AsmParser &parser, Type) {
  MLIRContext *ctx = parser.getContext();
  auto f64 = Float64Type::get(ctx);
  bool greedy = false;
  FloatAttr temperature, topP;
  int64_t topK = 0;
  uint64_t seed = 0;
  llvm::StringSet<> seen;
  SMLoc loc = parser.getCurrentLocation();

  auto parseEntry = [&]() -> ParseResult {
    SMLoc keyLoc = parser.getCurrentLocation();
    StringRef key;
    if (parser.parseKeyword(&key))
      return failure();
    if (!seen.insert(key).second)
      return parser.emitError(keyLoc, "duplicate sampling parameter '")
             << key << "'";
    if (key == "greedy") {
      greedy = true;
      return success();
    }
    if (parser.parseEqual())
      return failure();
    if (key == "temperature" || key == "top_p") {
      double value;
      if (parser.parseFloat(value))
        return failure();
      (key == "temperature" ? temperature : topP) = FloatAttr::get(f64, value);
      return success();
    }
    if (key == "top_k")
      return parser.parseInteger(topK);
    if (key == "seed")
      return parser.parseInteger(seed);
    return parser.emitError(keyLoc, "unknown sampling parameter '")
           << key << "'; expected greedy, temperature, top_k, top_p or seed";
  };
  if (parser.parseLess() ||
      parser.parseCommaSeparatedList(AsmParser::Delimiter::None, parseEntry) ||
      parser.parseGreater())
    return {};
  if (greedy && seen.size() > 1) {
    parser.emitError(loc, "greedy sampling takes no other parameter");
    return {};
  }
  if (!greedy && !temperature) {
    parser.emitError(loc, "expected 'greedy' or a temperature");
    return {};
  }
  return parser.getChecked<SamplingAttr>(ctx, temperature, topK, topP, seed);
}

/// Prints `value` with the fewest digits that read back to the same double
/// (`0.95`, not `0.94999999999999996`), always with a decimal point.
static void printShortestDouble(AsmPrinter &printer, double value) {
  char buffer[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value)
      break;
  }
  StringRef text(buffer);
  printer << text;
  if (text.find_first_of(".e") == StringRef::npos)
    printer << ".0";
}

void SamplingAttr::print(AsmPrinter &printer) const {
  printer << "<";
  if (isGreedy()) {
    printer << "greedy>";
    return;
  }
  printer << "temperature = ";
  printShortestDouble(printer, getTemperature().getValueAsDouble());
  if (getTopK() != 0)
    printer << ", top_k = " << getTopK();
  if (FloatAttr topP = getTopP()) {
    printer << ", top_p = ";
    printShortestDouble(printer, topP.getValueAsDouble());
  }
  if (getSeed() != 0)
    printer << ", seed = " << getSeed();
  printer << ">";
}
