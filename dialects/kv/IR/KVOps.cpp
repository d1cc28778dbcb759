//===- KVOps.cpp - kv operations ---------------------------------------===//

#include "dialects/kv/IR/KVOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace kvant::kv;

/// Parses the policy of `kv.evict`, naming the accepted attributes when the
/// attribute is not a policy.
static ParseResult parsePolicy(OpAsmParser &parser,
                               EvictionPolicyAttrInterface &policy) {
  SMLoc loc = parser.getCurrentLocation();
  Attribute attr;
  if (parser.parseAttribute(attr))
    return failure();
  policy = dyn_cast<EvictionPolicyAttrInterface>(attr);
  if (!policy)
    return parser.emitError(loc)
           << "expected an eviction policy (#kv.sink_window or #kv.score), "
              "got "
           << attr;
  return success();
}

static void printPolicy(OpAsmPrinter &printer, Operation *,
                        EvictionPolicyAttrInterface policy) {
  printer.printAttribute(policy);
}

#define GET_OP_CLASSES
#include "dialects/kv/IR/KVOps.cpp.inc"

/// Emits an error on `op` unless `layer` names one of `cache`'s layers.
static LogicalResult verifyLayer(Operation *op, int64_t layer,
                                 CacheType cache) {
  if (layer < 0 || layer >= cache.getLayers())
    return op->emitOpError()
           << "layer " << layer << " is out of range for a cache of "
           << cache.getLayers() << " layers";
  return success();
}

/// Emits an error on `op` unless `tokens` (the keys or values entering or
/// leaving `cache`) is a `[tokens, heads, head_dim]` tensor of an element type
/// the cache converts from or to. `what` names the tensors in messages and
/// `verb` says what the op does with them.
static LogicalResult verifyTokens(Operation *op, RankedTensorType tokens,
                                  CacheType cache, StringRef what,
                                  StringRef verb) {
  ArrayRef<int64_t> shape = tokens.getShape();
  if (shape.size() != 3 || shape[1] != cache.getHeads() ||
      shape[2] != cache.getHeadDim())
    return op->emitOpError() << what << " must have shape [tokens, "
                             << cache.getHeads() << ", " << cache.getHeadDim()
                             << "] (tokens, heads, head_dim), got " << tokens;
  if (!ShapedType::isDynamic(shape[0]) && shape[0] > cache.getCapacity())
    return op->emitOpError()
           << verb << " " << shape[0] << " tokens, more than the capacity of "
           << cache.getCapacity();
  Type element = tokens.getElementType();
  if (FloatType stored = cache.getFloatElementType()) {
    if (element != stored)
      return op->emitOpError() << what << " have element type " << element
                               << " but the cache stores " << stored;
    return success();
  }
  if (!element.isF32() && !element.isF16() && !element.isBF16())
    return op->emitOpError()
           << what << " have element type " << element
           << "; a quantized cache converts only f32, f16 and bf16";
  return success();
}

//===----------------------------------------------------------------------===//
// AppendOp / ReadOp
//===----------------------------------------------------------------------===//

LogicalResult AppendOp::verify() {
  CacheType cache = getCache().getType();
  if (failed(verifyLayer(*this, getLayer(), cache)))
    return failure();
  return verifyTokens(*this, getKeys().getType(), cache, "keys and values",
                      "appends");
}

LogicalResult ReadOp::verify() {
  CacheType cache = getCache().getType();
  if (failed(verifyLayer(*this, getLayer(), cache)))
    return failure();
  return verifyTokens(*this, getKeys().getType(), cache, "keys and values",
                      "reads");
}

//===----------------------------------------------------------------------===//
// QuantizeOp
//===----------------------------------------------------------------------===//

LogicalResult QuantizeOp::verify() {
  CacheType input = getInput().getType();
  CacheType result = getType();
  if (input.isQuantized())
    return emitOpError("input cache is already quantized in ")
           << input.getScheme().getFormatName();
  if (!result.isQuantized())
    return emitOpError("result cache must have a quantization scheme, got ")
           << result.getElement();
  CacheType expected = input.cloneWithElement(result.getElement());
  if (result != expected)
    return emitOpError("result must have the input's geometry: expected ")
           << expected << ", got " << result;
  return success();
}

//===----------------------------------------------------------------------===//
// EvictOp
//===----------------------------------------------------------------------===//

LogicalResult EvictOp::verify() {
  CacheType cache = getCache().getType();
  EvictionPolicyAttrInterface policy = getPolicy();
  if (policy.getBudget() > cache.getCapacity())
    return emitOpError("policy ")
           << policy << " keeps up to " << policy.getBudget()
           << " tokens, more than the capacity of " << cache.getCapacity();
  if (!policy.needsScores()) {
    if (getScores())
      return emitOpError("policy ") << policy << " takes no scores";
    return success();
  }
  if (!getScores())
    return emitOpError("policy ") << policy << " needs a scores operand";
  auto scores = cast<RankedTensorType>(getScores().getType());
  if (scores.getRank() != 1 || !isa<FloatType>(scores.getElementType()))
    return emitOpError("scores must be a rank-1 float tensor (one score per "
                       "position), got ")
           << scores;
  int64_t positions = scores.getDimSize(0);
  if (!ShapedType::isDynamic(positions) && positions > cache.getCapacity())
    return emitOpError("scores cover ")
           << positions << " positions, more than the capacity of "
           << cache.getCapacity();
  return success();
}

LogicalResult EvictOp::fold(FoldAdaptor,
                            SmallVectorImpl<OpFoldResult> &results) {
  // A policy that may keep a full cache never evicts anything.
  if (getPolicy().getBudget() != getCache().getType().getCapacity())
    return failure();
  results.push_back(getCache());
  results.push_back(getLength());
  return success();
}

//===----------------------------------------------------------------------===//
// RollbackOp
//===----------------------------------------------------------------------===//

OpFoldResult RollbackOp::fold(FoldAdaptor) {
  // An empty cache has nothing to discard.
  if (getCache().getDefiningOp<EmptyOp>())
    return getCache();
  // Truncating twice to the same length is truncating once.
  if (auto inner = getCache().getDefiningOp<RollbackOp>())
    if (inner.getLength() == getLength())
      return getCache();
  return {};
}
