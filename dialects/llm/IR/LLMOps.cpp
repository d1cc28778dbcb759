//===- LLMOps.cpp - llm operations ---------------------------------------===//

#include "dialects/llm/IR/LLMOps.h"
#include "lib/Support/ShapeFormat.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"

#include <cmath>

using namespace mlir;
using namespace kvant::llm;
using kvant::formatShape;
using kvant::qt::QuantizedTensorType;

//===----------------------------------------------------------------------===//
// Custom directives
//===----------------------------------------------------------------------===//

/// An enum attribute as a bare keyword (`neox`, `swiglu`): the attribute's own
/// printer leads with a space meant for its `#llm<kind value>` form.
template <typename EnumAttrT>
static ParseResult parseEnumKeyword(OpAsmParser &parser, EnumAttrT &attr) {
  using EnumT = decltype(std::declval<EnumAttrT>().getValue());
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseKeyword(&keyword))
    return failure();
  std::optional<EnumT> value = symbolizeEnum<EnumT>(keyword);
  if (!value)
    return parser.emitError(loc, "unknown keyword '") << keyword << "'";
  attr = EnumAttrT::get(parser.getContext(), *value);
  return success();
}

template <typename EnumAttrT>
static void printEnumKeyword(OpAsmPrinter &printer, Operation *,
                             EnumAttrT attr) {
  printer << stringifyEnum(attr.getValue());
}

#define GET_OP_CLASSES
#include "dialects/llm/IR/LLMOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Shape helpers
//===----------------------------------------------------------------------===//

/// Whether two sizes can be equal: a dynamic size matches anything.
static bool compatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// Emits "<what> is N but <otherWhat> is M" unless the sizes are compatible.
static LogicalResult verifyDim(Operation *op, int64_t a, int64_t b,
                               StringRef what, StringRef otherWhat) {
  if (compatible(a, b))
    return success();
  return op->emitOpError() << what << " is " << a << " but " << otherWhat
                           << " is " << b;
}

/// Emits an error unless `actual` is compatible with `expected`.
static LogicalResult verifyShape(Operation *op, ArrayRef<int64_t> actual,
                                 ArrayRef<int64_t> expected, StringRef name) {
  if (succeeded(verifyCompatibleShape(actual, expected)))
    return success();
  return op->emitOpError() << name << " shape " << formatShape(actual)
                           << " does not match the expected "
                           << formatShape(expected);
}

static LogicalResult verifyFloatTensor(Operation *op, ShapedType type,
                                       StringRef name) {
  if (isa<FloatType>(type.getElementType()))
    return success();
  return op->emitOpError() << name << " must have float elements, got "
                           << type.getElementType();
}

/// The shape of a weight operand: a float tensor or a quantized one.
/// Emits an error unless it is rank 2 with float elements where unquantized.
static FailureOr<ArrayRef<int64_t>> getWeightShape(Operation *op, Type type,
                                                   StringRef name) {
  ArrayRef<int64_t> shape;
  if (auto quantized = dyn_cast<QuantizedTensorType>(type)) {
    shape = quantized.getShape();
  } else {
    auto tensor = cast<RankedTensorType>(type);
    if (failed(verifyFloatTensor(op, tensor, name)))
      return failure();
    shape = tensor.getShape();
  }
  if (shape.size() != 2)
    return op->emitOpError()
           << name << " must be rank 2, got rank " << shape.size();
  return shape;
}

//===----------------------------------------------------------------------===//
// EmbeddingOp
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::verify() {
  FailureOr<ArrayRef<int64_t>> table =
      getWeightShape(*this, getTable().getType(), "table");
  if (failed(table))
    return failure();
  RankedTensorType result = getType();
  if (failed(verifyFloatTensor(*this, result, "result")))
    return failure();
  if (auto tableType = dyn_cast<RankedTensorType>(getTable().getType());
      tableType && tableType.getElementType() != result.getElementType())
    return emitOpError("result element type ")
           << result.getElementType()
           << " differs from the unquantized table's "
           << tableType.getElementType();
  SmallVector<int64_t> expected(getTokens().getType().getShape());
  expected.push_back((*table)[1]);
  return verifyShape(*this, result.getShape(), expected, "result");
}

//===----------------------------------------------------------------------===//
// RMSNormOp
//===----------------------------------------------------------------------===//

LogicalResult RMSNormOp::verify() {
  RankedTensorType input = getInput().getType();
  RankedTensorType weight = getWeight().getType();
  if (failed(verifyFloatTensor(*this, input, "input")) ||
      failed(verifyFloatTensor(*this, weight, "weight")))
    return failure();
  if (input.getRank() < 1)
    return emitOpError("input must have rank >= 1");
  if (weight.getRank() != 1)
    return emitOpError("weight must be rank 1, got rank ") << weight.getRank();
  if (failed(verifyDim(*this, weight.getDimSize(0), input.getShape().back(),
                       "weight size", "the normalized dimension")))
    return failure();
  if (!(getEpsilon().convertToFloat() > 0.0f))
    return emitOpError("epsilon must be positive, got ")
           << getEpsilon().convertToFloat();
  return success();
}

//===----------------------------------------------------------------------===//
// RopeOp
//===----------------------------------------------------------------------===//

int64_t RopeOp::getRotaryDimOrHeadDim() {
  if (std::optional<int64_t> dim = getRotaryDim())
    return *dim;
  return getInput().getType().getDimSize(2);
}

LogicalResult RopeOp::verify() {
  RankedTensorType input = getInput().getType();
  if (failed(verifyFloatTensor(*this, input, "input")))
    return failure();
  if (input.getRank() != 3)
    return emitOpError("input must be rank 3 (tokens x heads x head_dim), "
                       "got rank ")
           << input.getRank();
  RankedTensorType positions = getPositions().getType();
  if (positions.getRank() != 1)
    return emitOpError("positions must be rank 1, got rank ")
           << positions.getRank();
  if (failed(verifyDim(*this, positions.getDimSize(0), input.getDimSize(0),
                       "positions size", "the token count")))
    return failure();
  if (!(getTheta().convertToFloat() > 0.0f))
    return emitOpError("theta must be positive, got ")
           << getTheta().convertToFloat();

  int64_t headDim = input.getDimSize(2);
  int64_t rotaryDim = getRotaryDimOrHeadDim();
  if (getRotaryDim()) {
    if (rotaryDim <= 0)
      return emitOpError("rotary_dim must be positive, got ") << rotaryDim;
    if (!ShapedType::isDynamic(headDim) && rotaryDim > headDim)
      return emitOpError("rotary_dim ")
             << rotaryDim << " exceeds the head dimension " << headDim;
  }
  if (!ShapedType::isDynamic(rotaryDim) && rotaryDim % 2 != 0)
    return emitOpError("rotated dimension must be even, got ") << rotaryDim;

  if (TypedValue<RankedTensorType> factors = getFreqFactors()) {
    RankedTensorType type = factors.getType();
    if (failed(verifyFloatTensor(*this, type, "freq_factors")))
      return failure();
    int64_t pairs =
        ShapedType::isDynamic(rotaryDim) ? ShapedType::kDynamic : rotaryDim / 2;
    if (failed(verifyShape(*this, type.getShape(), {pairs}, "freq_factors")))
      return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

float AttentionOp::getScaleOrDefault() {
  if (std::optional<APFloat> scale = getScale())
    return scale->convertToFloat();
  int64_t headDim = getQuery().getType().getDimSize(2);
  assert(!ShapedType::isDynamic(headDim) && "default scale needs a static D");
  return 1.0f / std::sqrt(static_cast<float>(headDim));
}

LogicalResult AttentionOp::verify() {
  RankedTensorType query = getQuery().getType();
  RankedTensorType key = getKey().getType();
  RankedTensorType value = getValue().getType();
  RankedTensorType result = getType();
  for (auto [type, name] :
       {std::pair(query, "query"), std::pair(key, "key"),
        std::pair(value, "value"), std::pair(result, "result")}) {
    if (failed(verifyFloatTensor(*this, type, name)))
      return failure();
    if (type.getRank() != 3)
      return emitOpError() << name
                           << " must be rank 3 (tokens x heads x head_dim), "
                              "got rank "
                           << type.getRank();
  }
  if (key.getElementType() != value.getElementType())
    return emitOpError("key and value element types differ: ")
           << key.getElementType() << " vs " << value.getElementType();
  if (result.getElementType() != query.getElementType())
    return emitOpError("result element type ")
           << result.getElementType() << " differs from the query's "
           << query.getElementType();

  int64_t tokens = query.getDimSize(0), queryHeads = query.getDimSize(1);
  int64_t kvHeads = key.getDimSize(1);
  if (failed(verifyDim(*this, key.getDimSize(0), value.getDimSize(0),
                       "key length", "value length")) ||
      failed(verifyDim(*this, kvHeads, value.getDimSize(1), "key head count",
                       "value head count")) ||
      failed(verifyDim(*this, query.getDimSize(2), key.getDimSize(2),
                       "query head dim", "key head dim")))
    return failure();
  if (!ShapedType::isDynamic(queryHeads) && !ShapedType::isDynamic(kvHeads) &&
      (kvHeads == 0 || queryHeads % kvHeads != 0))
    return emitOpError("query head count ")
           << queryHeads << " is not a multiple of the key/value head count "
           << kvHeads;
  if (failed(verifyShape(*this, result.getShape(),
                         {tokens, queryHeads, value.getDimSize(2)}, "result")))
    return failure();

  AttentionMaskAttrInterface mask = getMask();
  if (mask.needsMaskOperand() && !getTreeMask())
    return emitOpError("mask ") << mask << " needs a tree_mask operand";
  if (!mask.needsMaskOperand() && getTreeMask())
    return emitOpError("mask ") << mask << " takes no tree_mask operand";
  if (TypedValue<RankedTensorType> treeMask = getTreeMask())
    if (failed(verifyShape(*this, treeMask.getType().getShape(),
                           {tokens, tokens}, "tree_mask")))
      return failure();

  if (std::optional<APFloat> scale = getScale()) {
    float s = scale->convertToFloat();
    if (!(s > 0.0f) || std::isinf(s))
      return emitOpError("scale must be positive and finite, got ") << s;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// MlpOp
//===----------------------------------------------------------------------===//

bool MlpOp::isGated() { return getActivation() != MlpActivation::GELU; }

LogicalResult MlpOp::verify() {
  RankedTensorType input = getInput().getType();
  if (failed(verifyFloatTensor(*this, input, "input")))
    return failure();
  if (input.getRank() < 1)
    return emitOpError("input must have rank >= 1");
  StringRef activation = stringifyMlpActivation(getActivation());
  if (isGated() && !getGate())
    return emitOpError("activation ") << activation << " needs a gate weight";
  if (!isGated() && getGate())
    return emitOpError("activation ") << activation << " takes no gate weight";

  int64_t model = input.getShape().back();
  FailureOr<ArrayRef<int64_t>> up =
      getWeightShape(*this, getUp().getType(), "up weight");
  FailureOr<ArrayRef<int64_t>> down =
      getWeightShape(*this, getDown().getType(), "down weight");
  if (failed(up) || failed(down))
    return failure();
  int64_t hidden = (*up)[0];
  if (failed(verifyShape(*this, *up, {hidden, model}, "up weight")) ||
      failed(verifyShape(*this, *down, {model, hidden}, "down weight")))
    return failure();
  if (Value gate = getGate()) {
    FailureOr<ArrayRef<int64_t>> gateShape =
        getWeightShape(*this, gate.getType(), "gate weight");
    if (failed(gateShape) ||
        failed(verifyShape(*this, *gateShape, {hidden, model}, "gate weight")))
      return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::verify() {
  RankedTensorType input = getInput().getType();
  RankedTensorType result = getType();
  if (failed(verifyFloatTensor(*this, input, "input")))
    return failure();
  if (input.getRank() < 1)
    return emitOpError("input must have rank >= 1");
  if (result.getElementType() != input.getElementType())
    return emitOpError("result element type ")
           << result.getElementType() << " differs from the input's "
           << input.getElementType();
  FailureOr<ArrayRef<int64_t>> weight =
      getWeightShape(*this, getWeight().getType(), "weight");
  if (failed(weight))
    return failure();
  int64_t outFeatures = (*weight)[0], inFeatures = (*weight)[1];
  if (failed(verifyDim(*this, input.getShape().back(), inFeatures,
                       "input feature size", "the weight's")))
    return failure();
  if (TypedValue<RankedTensorType> bias = getBias()) {
    if (failed(verifyFloatTensor(*this, bias.getType(), "bias")) ||
        failed(verifyShape(*this, bias.getType().getShape(), {outFeatures},
                           "bias")))
      return failure();
  }
  SmallVector<int64_t> expected(input.getShape().drop_back());
  expected.push_back(outFeatures);
  return verifyShape(*this, result.getShape(), expected, "result");
}

//===----------------------------------------------------------------------===//
// LogitsOp
//===----------------------------------------------------------------------===//

LogicalResult LogitsOp::verify() {
  RankedTensorType hidden = getHidden().getType();
  RankedTensorType result = getType();
  if (failed(verifyFloatTensor(*this, hidden, "hidden")) ||
      failed(verifyFloatTensor(*this, result, "result")))
    return failure();
  if (!result.getElementType().isF32() &&
      result.getElementType() != hidden.getElementType())
    return emitOpError("result element type must be f32 or the hidden "
                       "states', got ")
           << result.getElementType();
  FailureOr<ArrayRef<int64_t>> weight =
      getWeightShape(*this, getWeight().getType(), "weight");
  if (failed(weight))
    return failure();
  if (hidden.getRank() < (getLastOnly() ? 2 : 1))
    return emitOpError(getLastOnly() ? "last_only needs hidden states of rank "
                                       ">= 2 (positions x width)"
                                     : "hidden must have rank >= 1");
  if (failed(verifyDim(*this, hidden.getShape().back(), (*weight)[1],
                       "hidden size", "the weight's")))
    return failure();
  ArrayRef<int64_t> leading = hidden.getShape().drop_back();
  if (getLastOnly()) {
    if (leading.back() == 0)
      return emitOpError("last_only needs at least one position");
    leading = leading.drop_back();
  }
  SmallVector<int64_t> expected(leading);
  expected.push_back((*weight)[0]);
  return verifyShape(*this, result.getShape(), expected, "result");
}

//===----------------------------------------------------------------------===//
// SampleOp
//===----------------------------------------------------------------------===//

LogicalResult SampleOp::verify() {
  RankedTensorType logits = getLogits().getType();
  if (failed(verifyFloatTensor(*this, logits, "logits")))
    return failure();
  if (logits.getRank() != 1 && logits.getRank() != 2)
    return emitOpError("logits must be rank 1 (vocabulary) or 2 (batch x "
                       "vocabulary), got rank ")
           << logits.getRank();
  auto resultTensor = dyn_cast<RankedTensorType>(getType());
  if (logits.getRank() == 1 && resultTensor)
    return emitOpError("rank-1 logits give an i32 token, not ") << getType();
  if (logits.getRank() == 2) {
    if (!resultTensor)
      return emitOpError("rank-2 logits give a tensor of tokens, one per row");
    if (failed(verifyShape(*this, resultTensor.getShape(),
                           {logits.getDimSize(0)}, "result")))
      return failure();
  }
  if (logits.getShape().back() == 0)
    return emitOpError("logits must not be empty");
  if (getSampling().isGreedy() && getStep())
    return emitOpError("greedy sampling takes no step operand");
  if (!getSampling().isGreedy() && !getStep())
    return emitOpError("stochastic sampling needs a step operand");
  return success();
}
