//===- KVDialect.cpp - kv dialect, types and attributes ----------------===//

#include "dialects/kv/IR/KVDialect.h"
#include "dialects/kv/IR/KVOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace kvant::kv;

#include "dialects/kv/IR/KVDialect.cpp.inc"
#include "dialects/kv/IR/KVEnums.cpp.inc"

#include "dialects/kv/IR/KVAttrInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/kv/IR/KVAttrs.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/kv/IR/KVTypes.cpp.inc"

void KVDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/kv/IR/KVAttrs.cpp.inc"
      >();
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialects/kv/IR/KVTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialects/kv/IR/KVOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// SinkWindowAttr
//===----------------------------------------------------------------------===//

LogicalResult
SinkWindowAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                       int64_t sink, int64_t window) {
  if (sink < 0)
    return emitError() << "sink must be non-negative, got " << sink;
  if (window <= 0)
    return emitError() << "window must be positive, got " << window;
  return success();
}

int64_t SinkWindowAttr::getBudget() const { return getSink() + getWindow(); }

bool SinkWindowAttr::needsScores() const { return false; }

//===----------------------------------------------------------------------===//
// ScoreAttr
//===----------------------------------------------------------------------===//

LogicalResult ScoreAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                int64_t keep) {
  if (keep <= 0)
    return emitError() << "keep must be positive, got " << keep;
  return success();
}

int64_t ScoreAttr::getBudget() const { return getKeep(); }

bool ScoreAttr::needsScores() const { return true; }

//===----------------------------------------------------------------------===//
// CacheType
//===----------------------------------------------------------------------===//

LogicalResult CacheType::verify(function_ref<InFlightDiagnostic()> emitError,
                                int64_t layers, int64_t heads, int64_t headDim,
                                int64_t page, int64_t capacity,
                                Attribute element) {
  for (auto [name, value] : {std::pair<StringRef, int64_t>{"layers", layers},
                             {"heads", heads},
                             {"head_dim", headDim},
                             {"page", page},
                             {"capacity", capacity}})
    if (value <= 0)
      return emitError() << name << " must be positive, got " << value;
  if (capacity % page != 0)
    return emitError() << "capacity " << capacity
                       << " is not a multiple of the page size " << page;
  if (auto typeAttr = dyn_cast<TypeAttr>(element)) {
    Type type = typeAttr.getValue();
    if (!type.isF32() && !type.isF16() && !type.isBF16())
      return emitError() << "element type " << type
                         << " is not f32, f16 or bf16";
    return success();
  }
  auto scheme = dyn_cast<qt::QuantSchemeAttrInterface>(element);
  if (!scheme)
    return emitError() << "element must be f32, f16, bf16 or a quantization "
                          "scheme, got "
                       << element;
  int64_t block = scheme.getBlockSize();
  if (headDim % block != 0)
    return emitError() << "head_dim " << headDim
                       << " is not a multiple of the block size " << block
                       << " of " << scheme.getFormatName();
  return success();
}

bool CacheType::isQuantized() const { return !isa<TypeAttr>(getElement()); }

FloatType CacheType::getFloatElementType() const {
  if (auto typeAttr = dyn_cast<TypeAttr>(getElement()))
    return cast<FloatType>(typeAttr.getValue());
  return {};
}

kvant::qt::QuantSchemeAttrInterface CacheType::getScheme() const {
  return dyn_cast<qt::QuantSchemeAttrInterface>(getElement());
}

int64_t CacheType::getBytesPerTokenPerLayer() const {
  int64_t perHead;
  if (qt::QuantSchemeAttrInterface scheme = getScheme())
    perHead = getHeadDim() / scheme.getBlockSize() * scheme.getBlockBytes();
  else
    perHead = getHeadDim() * getFloatElementType().getWidth() / 8;
  // Keys and values.
  return 2 * getHeads() * perHead;
}

RankedTensorType CacheType::getTokensType(int64_t tokens,
                                          Type elementType) const {
  return RankedTensorType::get({tokens, getHeads(), getHeadDim()}, elementType);
}

CacheType CacheType::cloneWithElement(Attribute element) const {
  return CacheType::get(getContext(), getLayers(), getHeads(), getHeadDim(),
                        getPage(), getCapacity(), element);
}
