//===- QtOps.cpp - qt operations ------------------------------------------===//

#include "dialects/qt/IR/QtOps.h"
#include "lib/Support/ShapeFormat.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace kvant::qt;

#define GET_OP_CLASSES
#include "dialects/qt/IR/QtOps.cpp.inc"

/// Emits an error on `op` unless `a` and `b` are the same shape, treating a
/// dynamic dimension on either side as compatible.
static LogicalResult verifySameShape(Operation *op, ArrayRef<int64_t> a,
                                     ArrayRef<int64_t> b, StringRef aName,
                                     StringRef bName) {
  if (failed(verifyCompatibleShape(a, b)))
    return op->emitOpError()
           << aName << " shape " << kvant::formatShape(a) << " does not match "
           << bName << " shape " << kvant::formatShape(b);
  return success();
}

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError("weight name must not be empty");
  if (std::optional<int64_t> offset = getOffset(); offset && *offset < 0)
    return emitOpError("offset must be non-negative, got ") << *offset;
  if (auto tensor = dyn_cast<RankedTensorType>(getType())) {
    if (!tensor.hasStaticShape())
      return emitOpError("weight shape must be static");
    if (!isa<FloatType>(tensor.getElementType()))
      return emitOpError("unquantized weight must have float elements, got ")
             << tensor.getElementType();
  } else if (!cast<QuantizedTensorType>(getType()).hasStaticShape()) {
    return emitOpError("weight shape must be static");
  }
  return success();
}

//===----------------------------------------------------------------------===//
// QuantizeOp / DequantizeOp
//===----------------------------------------------------------------------===//

LogicalResult QuantizeOp::verify() {
  auto input = getInput().getType();
  if (!isa<FloatType>(input.getElementType()))
    return emitOpError("input must have float elements, got ")
           << input.getElementType();
  return verifySameShape(*this, input.getShape(), getType().getShape(), "input",
                         "result");
}

LogicalResult DequantizeOp::verify() {
  auto result = getType();
  if (!isa<FloatType>(result.getElementType()))
    return emitOpError("result must have float elements, got ")
           << result.getElementType();
  return verifySameShape(*this, getInput().getType().getShape(),
                         result.getShape(), "input", "result");
}

//===----------------------------------------------------------------------===//
// AssembleOp
//===----------------------------------------------------------------------===//

LogicalResult AssembleOp::verify() {
  QuantizedTensorType result = getType();
  auto scheme = dyn_cast<GroupedSchemeAttr>(result.getScheme());
  if (!scheme)
    return emitOpError("needs a #qt.grouped scheme, got ")
           << result.getScheme();
  auto values = getValues().getType();
  if (values.getElementType() != scheme.getStorage())
    return emitOpError("values have element type ")
           << values.getElementType() << " but the scheme stores "
           << scheme.getStorage();
  if (failed(verifySameShape(*this, values.getShape(), result.getShape(),
                             "values", "result")))
    return failure();

  SmallVector<int64_t> groupShape(result.getShape());
  groupShape.back() /= scheme.getGroup();
  auto scales = getScales().getType();
  if (scales.getElementType() != scheme.getScale())
    return emitOpError("scales have element type ")
           << scales.getElementType() << " but the scheme's scale type is "
           << scheme.getScale();
  if (failed(verifySameShape(*this, scales.getShape(), groupShape, "scales",
                             "expected per-group")))
    return failure();

  if (scheme.isSymmetric()) {
    if (getZeros())
      return emitOpError("symmetric scheme takes no zero points");
    return success();
  }
  if (!getZeros())
    return emitOpError("asymmetric scheme needs zero points");
  auto zeros = getZeros().getType();
  if (zeros.getElementType() != scheme.getZero())
    return emitOpError("zeros have element type ")
           << zeros.getElementType() << " but the scheme's zero type is "
           << scheme.getZero();
  return verifySameShape(*this, zeros.getShape(), groupShape, "zeros",
                         "expected per-group");
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::verify() {
  auto lhs = getLhs().getType();
  QuantizedTensorType weight = getWeight().getType();
  auto result = getType();
  if (weight.getRank() != 2)
    return emitOpError("weight must be rank 2 (N x K), got rank ")
           << weight.getRank();
  if (lhs.getRank() < 1)
    return emitOpError("lhs must have rank >= 1");
  if (!isa<FloatType>(lhs.getElementType()) ||
      !isa<FloatType>(result.getElementType()))
    return emitOpError("lhs and result must have float elements");
  int64_t k = weight.getShape()[1], n = weight.getShape()[0];
  int64_t lhsK = lhs.getShape().back();
  if (!ShapedType::isDynamic(lhsK) && lhsK != k)
    return emitOpError("reduction dimension mismatch: lhs has ")
           << lhsK << " but weight has " << k;
  SmallVector<int64_t> expected(lhs.getShape().drop_back());
  expected.push_back(n);
  return verifySameShape(*this, result.getShape(), expected, "result",
                         "expected");
}

//===----------------------------------------------------------------------===//
// PackOp / UnpackOp
//===----------------------------------------------------------------------===//

/// Checks that `narrow` holds w-bit integers (w in {1, 2, 4}) that pack into
/// the i8 elements of `bytes` along the innermost axis.
static LogicalResult verifyPacking(Operation *op, RankedTensorType narrow,
                                   RankedTensorType bytes) {
  auto narrowInt = dyn_cast<IntegerType>(narrow.getElementType());
  if (!narrowInt || !llvm::is_contained({1u, 2u, 4u}, narrowInt.getWidth()))
    return op->emitOpError("packed elements must be i1, i2 or i4, got ")
           << narrow.getElementType();
  if (!bytes.getElementType().isInteger(8))
    return op->emitOpError("bytes must be i8, got ") << bytes.getElementType();
  if (narrow.getRank() != bytes.getRank() || narrow.getRank() == 0)
    return op->emitOpError("packed and unpacked tensors must have the same "
                           "non-zero rank");
  int64_t perByte = 8 / narrowInt.getWidth();
  int64_t inner = narrow.getShape().back();
  SmallVector<int64_t> expected(narrow.getShape());
  if (!ShapedType::isDynamic(inner)) {
    if (inner % perByte != 0)
      return op->emitOpError("innermost dimension ")
             << inner << " is not a multiple of " << perByte << ", the "
             << narrowInt << " values one byte holds";
    expected.back() = inner / perByte;
  }
  return verifySameShape(op, bytes.getShape(), expected, "byte tensor",
                         "expected");
}

LogicalResult PackOp::verify() {
  return verifyPacking(*this, getInput().getType(), getType());
}

LogicalResult PrefetchOp::verify() {
  int64_t rank = getSource().getType().getRank();
  if (static_cast<int64_t>(getIndices().size()) != rank)
    return emitOpError() << "needs one index per dimension of the source ("
                         << rank << "), got " << getIndices().size();
  return success();
}

LogicalResult DotI8Op::verify() {
  int64_t lanes = getLhs().getType().getDimSize(0);
  int64_t results = getType().getDimSize(0);
  if (lanes != 4 * results)
    return emitOpError() << "needs 4 input lanes per result lane, got " << lanes
                         << " for " << results;
  if (getScaleHigh() && !getScale())
    return emitOpError() << "has a high-half scale without a scale";
  if (getScaleHigh() && results % 2)
    return emitOpError() << "needs an even number of result lanes to scale "
                            "its halves, got "
                         << results;
  return success();
}

LogicalResult DotI8SumOp::verify() {
  if (getLhs().empty())
    return emitOpError() << "needs at least one pair of operands";
  Type type = getLhs().front().getType();
  for (Value v : llvm::concat<Value>(getLhs(), getRhs()))
    if (v.getType() != type)
      return emitOpError() << "needs operands of one type, got " << type
                           << " and " << v.getType();
  int64_t lanes = cast<VectorType>(type).getDimSize(0);
  int64_t results = getType().getDimSize(0);
  if (lanes != 4 * results)
    return emitOpError() << "needs 4 input lanes per result lane, got " << lanes
                         << " for " << results;
  return success();
}

LogicalResult LookupI8Op::verify() {
  if (getTable().size() != 16)
    return emitOpError() << "needs a table of 16 entries, got "
                         << getTable().size();
  return success();
}

LogicalResult UnpackOp::verify() {
  return verifyPacking(*this, getType(), getInput().getType());
}

OpFoldResult PackOp::fold(FoldAdaptor) {
  // pack(unpack(x)) is x: unpacking then packing loses no bit.
  if (auto unpack = getInput().getDefiningOp<UnpackOp>())
    if (unpack.getInput().getType() == getType())
      return unpack.getInput();
  return {};
}

OpFoldResult UnpackOp::fold(FoldAdaptor) {
  if (auto pack = getInput().getDefiningOp<PackOp>())
    if (pack.getInput().getType() == getType())
      return pack.getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// FromBytesOp / ToBytesOp
//===----------------------------------------------------------------------===//

/// Checks that `bytes` is the storage of `quantized`: a GGUF scheme, i8
/// elements, the same outer dimensions and the row's byte count innermost.
static LogicalResult verifyByteStorage(Operation *op,
                                       QuantizedTensorType quantized,
                                       RankedTensorType bytes) {
  auto scheme = dyn_cast<GGUFSchemeAttr>(quantized.getScheme());
  if (!scheme)
    return op->emitOpError("needs a #qt.gguf block format, got ")
           << quantized.getScheme();
  if (!bytes.getElementType().isInteger(8))
    return op->emitOpError("bytes must be i8, got ") << bytes.getElementType();
  return verifySameShape(op, bytes.getShape(),
                         quantized.getBytesType().getShape(), "byte tensor",
                         "expected");
}

LogicalResult FromBytesOp::verify() {
  return verifyByteStorage(*this, getType(), getInput().getType());
}

LogicalResult ToBytesOp::verify() {
  return verifyByteStorage(*this, getInput().getType(), getType());
}

OpFoldResult FromBytesOp::fold(FoldAdaptor) {
  if (auto toBytes = getInput().getDefiningOp<ToBytesOp>())
    if (toBytes.getInput().getType() == getType())
      return toBytes.getInput();
  return {};
}

OpFoldResult ToBytesOp::fold(FoldAdaptor) {
  if (auto fromBytes = getInput().getDefiningOp<FromBytesOp>())
    if (fromBytes.getInput().getType() == getType())
      return fromBytes.getInput();
  return {};
}
