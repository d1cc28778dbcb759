//===- LLMToLinalg.cpp - lower llm ops to linalg on tensors ---------------===//
//
// The reference lowering of the llm dialect: each op becomes a few
// linalg.generic / linalg.matmul ops on tensors computing exactly what its
// description states, in f32 whatever the element types. Quantized weights
// stay quantized: they become qt.matmul / qt.dequantize, which
// qt-lower-to-linalg lowers per format.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Passes.h"

#include "passes/Conversion/Common/AttentionVisibility.h"

#include "dialects/llm/IR/LLMOps.h"
#include "dialects/qt/IR/QtOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Transforms/DialectConversion.h"

#include <cmath>

namespace kvant {
#define GEN_PASS_DEF_CONVERTLLMTOLINALGPASS
#include "passes/Conversion/Passes.h.inc"
} // namespace kvant

using namespace mlir;
using namespace kvant::llm;
using kvant::qt::GGUFSchemeAttr;
using kvant::qt::QuantizedTensorType;

using BodyFn =
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)>;

//===----------------------------------------------------------------------===//
// Scalar helpers (used inside linalg.generic bodies)
//===----------------------------------------------------------------------===//

/// `value` converted to the float type `type`. Two different 16-bit types
/// (f16, bf16) convert through f32.
static Value castFloat(OpBuilder &b, Location loc, Value value, Type type) {
  Type from = value.getType();
  if (from == type)
    return value;
  unsigned fromWidth = cast<FloatType>(from).getWidth();
  unsigned toWidth = cast<FloatType>(type).getWidth();
  if (fromWidth < toWidth)
    return arith::ExtFOp::create(b, loc, type, value);
  if (fromWidth > toWidth)
    return arith::TruncFOp::create(b, loc, type, value);
  Value wide = arith::ExtFOp::create(b, loc, b.getF32Type(), value);
  return arith::TruncFOp::create(b, loc, type, wide);
}

static Value toF32(OpBuilder &b, Location loc, Value value) {
  return castFloat(b, loc, value, b.getF32Type());
}

static Value floatConst(OpBuilder &b, Location loc, Type type, double value) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
}

static Value f32Const(OpBuilder &b, Location loc, double value) {
  return floatConst(b, loc, b.getF32Type(), value);
}

static Value indexConst(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

/// An index (a size or a position) as a float of type `type`.
static Value indexToFloat(OpBuilder &b, Location loc, Value index, Type type) {
  if (std::optional<int64_t> constant = getConstantIntValue(index))
    return floatConst(b, loc, type, static_cast<double>(*constant));
  Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), index);
  return arith::SIToFPOp::create(b, loc, type, i64);
}

static Value cmpIndex(OpBuilder &b, Location loc,
                      arith::CmpIPredicate predicate, Value lhs, Value rhs) {
  return arith::CmpIOp::create(b, loc, predicate, lhs, rhs);
}

//===----------------------------------------------------------------------===//
// Tensor helpers
//===----------------------------------------------------------------------===//

static SmallVector<utils::IteratorType> parallelIterators(int64_t count) {
  return SmallVector<utils::IteratorType>(count, utils::IteratorType::parallel);
}

/// A tensor of `sizes` with `elementType` elements, all `value`.
static Value filledTensor(OpBuilder &b, Location loc,
                          ArrayRef<OpFoldResult> sizes, Type elementType,
                          double value) {
  Value empty = tensor::EmptyOp::create(b, loc, sizes, elementType);
  Value fill = floatConst(b, loc, elementType, value);
  return linalg::FillOp::create(b, loc, ValueRange{fill}, ValueRange{empty})
      .getResult(0);
}

/// A linalg.generic whose single result has `sizes` and `elementType` and is
/// indexed by the identity map; `inputs` are read through `inputMaps`.
static Value buildGeneric(OpBuilder &b, Location loc,
                          ArrayRef<OpFoldResult> sizes, Type elementType,
                          ValueRange inputs, ArrayRef<AffineMap> inputMaps,
                          BodyFn body) {
  Value init = tensor::EmptyOp::create(b, loc, sizes, elementType);
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(b.getMultiDimIdentityMap(sizes.size()));
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
      parallelIterators(sizes.size()),
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        linalg::YieldOp::create(nb, nloc, body(nb, nloc, args));
      });
  return generic.getResult(0);
}

/// An elementwise linalg.generic over same-shaped `inputs`.
static Value buildElementwise(OpBuilder &b, Location loc, ValueRange inputs,
                              Type elementType, BodyFn body) {
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, inputs[0]);
  SmallVector<AffineMap> maps(inputs.size(),
                              b.getMultiDimIdentityMap(sizes.size()));
  return buildGeneric(b, loc, sizes, elementType, inputs, maps, body);
}

/// A reduction of `input` over its innermost dimension into `init`.
static Value reduceInnermost(OpBuilder &b, Location loc, Value input,
                             Value init, BodyFn body) {
  int64_t rank = cast<RankedTensorType>(input.getType()).getRank();
  SmallVector<utils::IteratorType> iterators = parallelIterators(rank);
  iterators.back() = utils::IteratorType::reduction;
  AffineMap identity = b.getMultiDimIdentityMap(rank);
  SmallVector<AffineMap> maps = {identity, identity.dropResult(rank - 1)};
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ValueRange{input},
             ValueRange{init}, maps, iterators,
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               linalg::YieldOp::create(nb, nloc, body(nb, nloc, args));
             })
      .getResult(0);
}

/// `value` with `elementType` elements (f32 arithmetic results cast back to
/// an op's element type).
static Value castElements(OpBuilder &b, Location loc, Value value,
                          Type elementType) {
  if (cast<RankedTensorType>(value.getType()).getElementType() == elementType)
    return value;
  return buildElementwise(
      b, loc, value, elementType,
      [&](OpBuilder &nb, Location nloc, ValueRange args) -> SmallVector<Value> {
        return {castFloat(nb, nloc, args[0], elementType)};
      });
}

/// `value` as `type` when they differ only in static information.
static Value castToType(OpBuilder &b, Location loc, Value value, Type type) {
  if (value.getType() == type)
    return value;
  return tensor::CastOp::create(b, loc, type, value);
}

/// `x` (`[..., K]`) as a matrix `[M, K]`, M the product of the leading
/// dimensions (1 for a vector).
static Value flattenToMatrix(OpBuilder &b, Location loc, Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  if (rank == 2)
    return x;
  if (rank == 1) {
    auto matrix =
        RankedTensorType::get({1, type.getDimSize(0)}, type.getElementType());
    SmallVector<OpFoldResult> shape = {b.getIndexAttr(1),
                                       tensor::getMixedSize(b, loc, x, 0)};
    return tensor::ExpandShapeOp::create(b, loc, matrix, x,
                                         {ReassociationIndices{0, 1}}, shape);
  }
  ReassociationIndices leading =
      llvm::to_vector(llvm::seq<int64_t>(0, rank - 1));
  return tensor::CollapseShapeOp::create(
      b, loc, x, {leading, ReassociationIndices{rank - 1}});
}

/// The inverse of flattenToMatrix: `y` (`[M, N]`) with `like`'s leading
/// dimensions restored (`[..., N]`).
static Value unflattenMatrix(OpBuilder &b, Location loc, Value y, Value like) {
  auto likeType = cast<RankedTensorType>(like.getType());
  auto yType = cast<RankedTensorType>(y.getType());
  int64_t rank = likeType.getRank();
  if (rank == 2)
    return y;
  if (rank == 1)
    return tensor::CollapseShapeOp::create(b, loc, y,
                                           {ReassociationIndices{0, 1}});
  SmallVector<int64_t> shape(likeType.getShape().drop_back());
  shape.push_back(yType.getDimSize(1));
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, like);
  sizes.back() = tensor::getMixedSize(b, loc, y, 1);
  ReassociationIndices leading =
      llvm::to_vector(llvm::seq<int64_t>(0, rank - 1));
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, yType.getElementType()), y,
      {leading, ReassociationIndices{rank - 1}}, sizes);
}

//===----------------------------------------------------------------------===//
// Shared building blocks
//===----------------------------------------------------------------------===//

/// `lhs · weightᵀ` in f32 for a `[M, K]` float `lhs` and an `[N, K]` float or
/// quantized weight: a transposed-B linalg.matmul, or a qt.matmul that keeps
/// the weight quantized.
static Value buildProjection(OpBuilder &b, Location loc, Value lhs,
                             Value weight) {
  Type f32 = b.getF32Type();
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  if (auto quantized = dyn_cast<QuantizedTensorType>(weight.getType())) {
    auto resultType = RankedTensorType::get(
        {lhsType.getDimSize(0), quantized.getShape()[0]}, f32);
    Value x = castElements(b, loc, lhs, f32);
    return kvant::qt::MatmulOp::create(b, loc, resultType, x, weight);
  }
  SmallVector<OpFoldResult> sizes = {tensor::getMixedSize(b, loc, lhs, 0),
                                     tensor::getMixedSize(b, loc, weight, 0)};
  Value init = filledTensor(b, loc, sizes, f32, 0.0);
  // linalg.matmul extends both inputs to the accumulator's f32.
  return linalg::MatmulTransposeBOp::create(b, loc, TypeRange{init.getType()},
                                            ValueRange{lhs, weight},
                                            ValueRange{init})
      .getResult(0);
}

/// `result[i..., d] = table[indices[i...], d]` for an integer `indices`
/// tensor of any rank and a rank-2 `table`.
static Value gatherRows(OpBuilder &b, Location loc, Value table,
                        Value indices) {
  auto tableType = cast<RankedTensorType>(table.getType());
  int64_t rank = cast<RankedTensorType>(indices.getType()).getRank();
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, indices);
  sizes.push_back(tensor::getMixedSize(b, loc, table, 1));
  AffineMap rowMap = b.getMultiDimIdentityMap(rank + 1).dropResult(rank);
  return buildGeneric(
      b, loc, sizes, tableType.getElementType(), indices, {rowMap},
      [&](OpBuilder &nb, Location nloc, ValueRange args) -> SmallVector<Value> {
        Value row =
            arith::IndexCastOp::create(nb, nloc, nb.getIndexType(), args[0]);
        Value column = linalg::IndexOp::create(nb, nloc, rank);
        return {tensor::ExtractOp::create(nb, nloc, table,
                                          ValueRange{row, column})};
      });
}

//===----------------------------------------------------------------------===//
// llm.embedding
//===----------------------------------------------------------------------===//

namespace {
/// A gather of table rows; a quantized table is gathered as bytes and only
/// the gathered rows are dequantized.
struct EmbeddingLowering : OpRewritePattern<EmbeddingOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(EmbeddingOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto quantized = dyn_cast<QuantizedTensorType>(op.getTable().getType());
    if (!quantized) {
      Value rows = gatherRows(rewriter, loc, op.getTable(), op.getTokens());
      rewriter.replaceOp(op, castToType(rewriter, loc, rows, op.getType()));
      return success();
    }
    auto scheme = dyn_cast<GGUFSchemeAttr>(quantized.getScheme());
    if (!scheme)
      return rewriter.notifyMatchFailure(op, "quantized table is not GGUF");
    rewriter.replaceOp(op, lowerQuantized(rewriter, op, quantized, scheme));
    return success();
  }

private:
  /// Gathers the looked-up rows' bytes, then dequantizes only those rows.
  static Value lowerQuantized(PatternRewriter &b, EmbeddingOp op,
                              QuantizedTensorType table,
                              GGUFSchemeAttr scheme) {
    Location loc = op.getLoc();
    ArrayRef<int64_t> shape = table.getShape();
    int64_t rowBytes =
        shape[1] / scheme.getBlockSize() * scheme.getBlockBytes();
    auto bytesType =
        RankedTensorType::get({shape[0], rowBytes}, b.getIntegerType(8));
    Value bytes =
        kvant::qt::ToBytesOp::create(b, loc, bytesType, op.getTable());

    Value tokens = op.getTokens();
    auto tokensType = cast<RankedTensorType>(tokens.getType());
    int64_t rank = tokensType.getRank();
    Value flat = tokens;
    if (rank == 0)
      flat = tensor::ExpandShapeOp::create(
          b, loc, RankedTensorType::get({1}, tokensType.getElementType()),
          tokens, ArrayRef<ReassociationIndices>{},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
    else if (rank > 1)
      flat = tensor::CollapseShapeOp::create(
          b, loc, tokens, {llvm::to_vector(llvm::seq<int64_t>(0, rank))});
    Value rowBytesGathered = gatherRows(b, loc, bytes, flat);

    int64_t count = cast<RankedTensorType>(flat.getType()).getDimSize(0);
    auto rowsType =
        QuantizedTensorType::get(b.getContext(), {count, shape[1]}, scheme);
    Value rows =
        kvant::qt::FromBytesOp::create(b, loc, rowsType, rowBytesGathered);
    Type elementType = op.getType().getElementType();
    Value values = kvant::qt::DequantizeOp::create(
        b, loc, rowsType.getDequantizedType(elementType), rows);

    // Back to the tokens' shape followed by D.
    if (rank == 0)
      values = tensor::CollapseShapeOp::create(b, loc, values,
                                               {ReassociationIndices{0, 1}});
    else if (rank > 1) {
      SmallVector<int64_t> resultShape(tokensType.getShape());
      resultShape.push_back(shape[1]);
      SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, tokens);
      sizes.push_back(b.getIndexAttr(shape[1]));
      values = tensor::ExpandShapeOp::create(
          b, loc, RankedTensorType::get(resultShape, elementType), values,
          {llvm::to_vector(llvm::seq<int64_t>(0, rank)),
           ReassociationIndices{rank}},
          sizes);
    }
    return castToType(b, loc, values, op.getType());
  }
};
} // namespace

//===----------------------------------------------------------------------===//
// llm.rms_norm
//===----------------------------------------------------------------------===//

namespace {
/// Sum of squares per row, 1/sqrt(mean + epsilon) per row, then the scaling
/// by it and the weight.
struct RMSNormLowering : OpRewritePattern<RMSNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RMSNormOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = op.getInput();
    RankedTensorType type = op.getInput().getType();
    int64_t rank = type.getRank();
    Type f32 = rewriter.getF32Type();

    // sum(x^2) per row.
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, input);
    ArrayRef<OpFoldResult> rowSizes = ArrayRef(sizes).drop_back();
    Value zeros = filledTensor(rewriter, loc, rowSizes, f32, 0.0);
    Value sumSquares = reduceInnermost(
        rewriter, loc, input, zeros,
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          Value x = toF32(b, l, args[0]);
          Value square = arith::MulFOp::create(b, l, x, x);
          return {arith::AddFOp::create(b, l, args[1], square)};
        });

    // 1 / sqrt(mean + epsilon) per row.
    Value width = indexToFloat(
        rewriter, loc,
        getValueOrCreateConstantIndexOp(rewriter, loc, sizes.back()), f32);
    Value epsilon = f32Const(rewriter, loc, op.getEpsilon().convertToDouble());
    Value one = f32Const(rewriter, loc, 1.0);
    Value inverseRms = buildElementwise(
        rewriter, loc, sumSquares, f32,
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          Value mean = arith::DivFOp::create(b, l, args[0], width);
          Value shifted = arith::AddFOp::create(b, l, mean, epsilon);
          Value root = math::SqrtOp::create(b, l, shifted);
          return {arith::DivFOp::create(b, l, one, root)};
        });

    // x * inverseRms * weight.
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    SmallVector<AffineMap> maps = {
        identity, identity.dropResult(rank - 1),
        AffineMap::get(rank, 0, rewriter.getAffineDimExpr(rank - 1))};
    Type elementType = type.getElementType();
    Value result = buildGeneric(
        rewriter, loc, sizes, elementType,
        ValueRange{input, inverseRms, op.getWeight()}, maps,
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          Value scaled =
              arith::MulFOp::create(b, l, toF32(b, l, args[0]), args[1]);
          Value weighted =
              arith::MulFOp::create(b, l, scaled, toF32(b, l, args[2]));
          return {castFloat(b, l, weighted, elementType)};
        });
    rewriter.replaceOp(op, castToType(rewriter, loc, result, op.getType()));
    return success();
  }
};
} // namespace

//===----------------------------------------------------------------------===//
// llm.rope
//===----------------------------------------------------------------------===//

namespace {
/// A [T, R/2] cos/sin table, then one elementwise rotation pass.
struct RopeLowering : OpRewritePattern<RopeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RopeOp op,
                                PatternRewriter &rewriter) const override {
    int64_t rotaryDim = op.getRotaryDimOrHeadDim();
    if (ShapedType::isDynamic(rotaryDim))
      return rewriter.notifyMatchFailure(op, "dynamic rotary dimension");
    Location loc = op.getLoc();
    auto [cosines, sines] = buildAngleTables(rewriter, op, rotaryDim);
    Value result = rotate(rewriter, op, rotaryDim, cosines, sines);
    rewriter.replaceOp(op, castToType(rewriter, loc, result, op.getType()));
    return success();
  }

private:
  /// cos and sin of `positions[t] * theta^(-2i/R) / freq_factors[i]` as
  /// `[T, R/2]` f32 tables. The angle is computed in f64: at long positions
  /// an f32 angle would be off by more than the f32 result can resolve.
  static std::pair<Value, Value> buildAngleTables(PatternRewriter &b, RopeOp op,
                                                  int64_t rotaryDim) {
    Location loc = op.getLoc();
    Type f32 = b.getF32Type(), f64 = b.getF64Type();
    SmallVector<OpFoldResult> sizes = {
        tensor::getMixedSize(b, loc, op.getPositions(), 0),
        b.getIndexAttr(rotaryDim / 2)};
    Value cosInit = tensor::EmptyOp::create(b, loc, sizes, f32);
    Value sinInit = tensor::EmptyOp::create(b, loc, sizes, f32);

    MLIRContext *ctx = b.getContext();
    SmallVector<Value> inputs = {op.getPositions()};
    SmallVector<AffineMap> maps = {AffineMap::get(2, 0, b.getAffineDimExpr(0))};
    if (Value factors = op.getFreqFactors()) {
      inputs.push_back(factors);
      maps.push_back(AffineMap::get(2, 0, b.getAffineDimExpr(1)));
    }
    maps.append(2, AffineMap::getMultiDimIdentityMap(2, ctx));
    // log(theta) * -2/R, so that theta^(-2i/R) = exp(i * logStep).
    double logStep =
        std::log(static_cast<double>(op.getTheta().convertToFloat())) * -2.0 /
        static_cast<double>(rotaryDim);
    bool hasFactors = op.getFreqFactors() != nullptr;
    auto generic = linalg::GenericOp::create(
        b, loc, TypeRange{cosInit.getType(), sinInit.getType()}, inputs,
        ValueRange{cosInit, sinInit}, maps, parallelIterators(2),
        [&](OpBuilder &nb, Location l, ValueRange args) {
          Value pair =
              indexToFloat(nb, l, linalg::IndexOp::create(nb, l, 1), f64);
          Value exponent = arith::MulFOp::create(
              nb, l, pair, floatConst(nb, l, f64, logStep));
          Value frequency = math::ExpOp::create(nb, l, exponent);
          Value position = arith::SIToFPOp::create(nb, l, f64, args[0]);
          Value angle = arith::MulFOp::create(nb, l, position, frequency);
          if (hasFactors)
            angle = arith::DivFOp::create(nb, l, angle,
                                          castFloat(nb, l, args[1], f64));
          Value cosine = arith::TruncFOp::create(
              nb, l, f32, math::CosOp::create(nb, l, angle));
          Value sine = arith::TruncFOp::create(
              nb, l, f32, math::SinOp::create(nb, l, angle));
          linalg::YieldOp::create(nb, l, ValueRange{cosine, sine});
        });
    return {generic.getResult(0), generic.getResult(1)};
  }

  /// Every element `x[t, h, d]` with `d < R` becomes `x cos - y sin` when it
  /// is the first of its pair and `x cos + y sin` when it is the second, `y`
  /// being its partner; the others pass through.
  static Value rotate(PatternRewriter &b, RopeOp op, int64_t rotaryDim,
                      Value cosines, Value sines) {
    Location loc = op.getLoc();
    Value input = op.getInput();
    Type elementType = op.getInput().getType().getElementType();
    bool neox = op.getStyle() == RopeStyle::NeoX;
    Value rotary = indexConst(b, loc, rotaryDim);
    Value half = indexConst(b, loc, rotaryDim / 2);
    Value zero = indexConst(b, loc, 0);
    Value one = indexConst(b, loc, 1);
    return buildElementwise(
        b, loc, input, elementType,
        [&](OpBuilder &nb, Location l, ValueRange args) -> SmallVector<Value> {
          Value t = linalg::IndexOp::create(nb, l, 0);
          Value h = linalg::IndexOp::create(nb, l, 1);
          Value d = linalg::IndexOp::create(nb, l, 2);
          Value rotated = cmpIndex(nb, l, arith::CmpIPredicate::ult, d, rotary);
          Value isFirst, pair, partner;
          if (neox) {
            isFirst = cmpIndex(nb, l, arith::CmpIPredicate::ult, d, half);
            Value up = arith::AddIOp::create(nb, l, d, half);
            Value down = arith::SubIOp::create(nb, l, d, half);
            pair = arith::SelectOp::create(nb, l, isFirst, d, down);
            partner = arith::SelectOp::create(nb, l, isFirst, up, down);
          } else {
            Value parity = arith::AndIOp::create(nb, l, d, one);
            isFirst = cmpIndex(nb, l, arith::CmpIPredicate::eq, parity, zero);
            pair = arith::DivUIOp::create(nb, l, d, indexConst(nb, l, 2));
            partner = arith::XOrIOp::create(nb, l, d, one);
          }
          // Elements past R read in-bounds dummies and are not rotated.
          pair = arith::SelectOp::create(nb, l, rotated, pair, zero);
          partner = arith::SelectOp::create(nb, l, rotated, partner, d);

          Value cosine =
              tensor::ExtractOp::create(nb, l, cosines, ValueRange{t, pair});
          Value sine =
              tensor::ExtractOp::create(nb, l, sines, ValueRange{t, pair});
          Value other = tensor::ExtractOp::create(nb, l, input,
                                                  ValueRange{t, h, partner});
          Value x = toF32(nb, l, args[0]);
          Value y = toF32(nb, l, other);
          Value xCos = arith::MulFOp::create(nb, l, x, cosine);
          Value ySin = arith::MulFOp::create(nb, l, y, sine);
          Value first = arith::SubFOp::create(nb, l, xCos, ySin);
          Value second = arith::AddFOp::create(nb, l, xCos, ySin);
          Value value = arith::SelectOp::create(nb, l, isFirst, first, second);
          value = castFloat(nb, l, value, elementType);
          return {arith::SelectOp::create(nb, l, rotated, value, args[0])};
        });
  }
};
} // namespace

//===----------------------------------------------------------------------===//
// llm.attention
//===----------------------------------------------------------------------===//

/// `AffineMap` over `count` loops selecting the loops `positions`.
static AffineMap selectDims(MLIRContext *ctx, ArrayRef<unsigned> positions,
                            unsigned count) {
  SmallVector<AffineExpr> exprs;
  for (unsigned p : positions)
    exprs.push_back(getAffineDimExpr(p, ctx));
  return AffineMap::get(count, 0, exprs, ctx);
}

/// `parallel` parallel loops followed by one reduction.
static SmallVector<utils::IteratorType> reductionLast(unsigned parallel) {
  SmallVector<utils::IteratorType> iterators = parallelIterators(parallel);
  iterators.push_back(utils::IteratorType::reduction);
  return iterators;
}

/// A `sum += a * b` reduction generic in f32 over loops (x0, x1, x2, x3, red):
/// `init[x0..x3] += lhs[lhsMap] * rhs[rhsMap]`.
static Value buildContraction(OpBuilder &b, Location loc, Value lhs,
                              AffineMap lhsMap, Value rhs, AffineMap rhsMap,
                              Value init) {
  AffineMap outMap = selectDims(b.getContext(), {0, 1, 2, 3}, 5);
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ValueRange{lhs, rhs},
             ValueRange{init}, {lhsMap, rhsMap, outMap}, reductionLast(4),
             [](OpBuilder &nb, Location l, ValueRange a) {
               Value product = arith::MulFOp::create(nb, l, toF32(nb, l, a[0]),
                                                     toF32(nb, l, a[1]));
               linalg::YieldOp::create(
                   nb, l,
                   ValueRange{arith::AddFOp::create(nb, l, a[2], product)});
             })
      .getResult(0);
}

/// The first `count` rows of `tensor` along dimension 0.
static Value sliceLeading(OpBuilder &b, Location loc, Value tensor,
                          OpFoldResult count) {
  auto type = cast<RankedTensorType>(tensor.getType());
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, tensor);
  SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
  sizes[0] = count;
  return tensor::ExtractSliceOp::create(b, loc, tensor, offsets, sizes,
                                        strides);
}

/// `scale`, else 1/sqrt(D), computed at run time when D is dynamic.
static Value buildAttentionScale(OpBuilder &b, AttentionOp op) {
  Location loc = op.getLoc();
  int64_t headDim = op.getQuery().getType().getDimSize(2);
  if (op.getScale() || !ShapedType::isDynamic(headDim))
    return f32Const(b, loc, op.getScaleOrDefault());
  Value size = tensor::DimOp::create(b, loc, op.getQuery(), 2);
  Value root =
      math::SqrtOp::create(b, loc, indexToFloat(b, loc, size, b.getF32Type()));
  return arith::DivFOp::create(b, loc, f32Const(b, loc, 1.0), root);
}

/// The query heads grouped by the key/value head they share,
/// `[T, Hq, D] -> [T, Hkv, G, D]` with `G = Hq / Hkv`; also returns `G`.
static std::pair<Value, OpFoldResult>
groupQueryHeads(OpBuilder &b, AttentionOp op, OpFoldResult kvHeads) {
  Location loc = op.getLoc();
  Value query = op.getQuery();
  RankedTensorType type = op.getQuery().getType();
  int64_t queryHeads = type.getDimSize(1);
  int64_t kvHeadsStatic = op.getKey().getType().getDimSize(1);
  int64_t groupStatic = ShapedType::kDynamic;
  if (!ShapedType::isDynamic(queryHeads) &&
      !ShapedType::isDynamic(kvHeadsStatic))
    groupStatic = queryHeads / kvHeadsStatic;

  OpFoldResult group = b.getIndexAttr(groupStatic);
  if (ShapedType::isDynamic(groupStatic)) {
    // expand_shape cannot split a static size into dynamic ones.
    if (!ShapedType::isDynamic(queryHeads)) {
      SmallVector<int64_t> shape(type.getShape());
      shape[1] = ShapedType::kDynamic;
      query = tensor::CastOp::create(
          b, loc, RankedTensorType::get(shape, type.getElementType()), query);
    }
    group =
        arith::DivUIOp::create(b, loc, tensor::DimOp::create(b, loc, query, 1),
                               getValueOrCreateConstantIndexOp(b, loc, kvHeads))
            .getResult();
  }
  auto groupedType = RankedTensorType::get(
      {type.getDimSize(0), kvHeadsStatic, groupStatic, type.getDimSize(2)},
      type.getElementType());
  SmallVector<OpFoldResult> sizes = {tensor::getMixedSize(b, loc, query, 0),
                                     kvHeads, group,
                                     tensor::getMixedSize(b, loc, query, 2)};
  Value grouped = tensor::ExpandShapeOp::create(b, loc, groupedType, query,
                                                {ReassociationIndices{0},
                                                 ReassociationIndices{1, 2},
                                                 ReassociationIndices{3}},
                                                sizes);
  return {grouped, group};
}

/// Scales the visible `[T, Hkv, G, S]` scores and sets the others to -inf,
/// in place.
static Value maskScores(OpBuilder &b, AttentionOp op, Value scores,
                        Value offset) {
  Location loc = op.getLoc();
  Value scale = buildAttentionScale(b, op);
  Value negInf = f32Const(b, loc, -INFINITY);
  AttentionMaskAttrInterface mask = op.getMask();
  Value treeMask = op.getTreeMask();
  AffineMap identity = b.getMultiDimIdentityMap(4);
  return linalg::GenericOp::create(
             b, loc, TypeRange{scores.getType()}, ValueRange{},
             ValueRange{scores}, {identity}, parallelIterators(4),
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value t = linalg::IndexOp::create(nb, l, 0);
               Value key = linalg::IndexOp::create(nb, l, 3);
               Value position = arith::AddIOp::create(nb, l, offset, t);
               Value visible = buildAttentionVisibility(
                   nb, l, mask, t, position, key, treeMask, offset);
               Value scaled = arith::MulFOp::create(nb, l, args[0], scale);
               linalg::YieldOp::create(nb, l,
                                       ValueRange{arith::SelectOp::create(
                                           nb, l, visible, scaled, negInf)});
             })
      .getResult(0);
}

/// Replaces masked scores by the softmax numerators `exp(s - max)` in place
/// and returns them with their row sums. A row that sees no key has a -inf
/// max; subtracting 0 instead makes its numerators and its sum 0, not NaN.
static std::pair<Value, Value>
buildSoftmaxNumerators(OpBuilder &b, Location loc, Value scores,
                       ArrayRef<OpFoldResult> rowSizes) {
  Type f32 = b.getF32Type();
  Value maxima = reduceInnermost(
      b, loc, scores, filledTensor(b, loc, rowSizes, f32, -INFINITY),
      [](OpBuilder &nb, Location l, ValueRange a) -> SmallVector<Value> {
        return {arith::MaximumFOp::create(nb, l, a[0], a[1])};
      });
  Value negInf = f32Const(b, loc, -INFINITY);
  Value zero = f32Const(b, loc, 0.0);
  MLIRContext *ctx = b.getContext();
  Value numerators =
      linalg::GenericOp::create(
          b, loc, TypeRange{scores.getType()}, ValueRange{maxima},
          ValueRange{scores},
          {selectDims(ctx, {0, 1, 2}, 4), b.getMultiDimIdentityMap(4)},
          parallelIterators(4),
          [&](OpBuilder &nb, Location l, ValueRange a) {
            Value empty = arith::CmpFOp::create(
                nb, l, arith::CmpFPredicate::OEQ, a[0], negInf);
            Value max = arith::SelectOp::create(nb, l, empty, zero, a[0]);
            Value shifted = arith::SubFOp::create(nb, l, a[1], max);
            linalg::YieldOp::create(
                nb, l, ValueRange{math::ExpOp::create(nb, l, shifted)});
          })
          .getResult(0);
  Value sums = reduceInnermost(
      b, loc, numerators, filledTensor(b, loc, rowSizes, f32, 0.0),
      [](OpBuilder &nb, Location l, ValueRange a) -> SmallVector<Value> {
        return {arith::AddFOp::create(nb, l, a[1], a[0])};
      });
  return {numerators, sums};
}

namespace {
/// Scaled dot-product attention in the `[T, Hkv, G, ...]` grouped layout:
/// scores, mask, softmax numerators, `P · V`, normalization. The score tensor
/// is the only `T x S` buffer and is updated in place.
struct AttentionLowering : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    PatternRewriter &b = rewriter;
    Location loc = op.getLoc();
    MLIRContext *ctx = b.getContext();
    Type f32 = b.getF32Type();
    Value key = op.getKey(), value = op.getValue();
    OpFoldResult tokens = tensor::getMixedSize(b, loc, op.getQuery(), 0);
    OpFoldResult keys = tensor::getMixedSize(b, loc, key, 0);
    Value tokenCount = getValueOrCreateConstantIndexOp(b, loc, tokens);
    Value offset = op.getOffset();
    if (offset) {
      // Keys past offset + T are invisible to every mask and, in a cache,
      // not yet written: never read them.
      Value end = arith::AddIOp::create(b, loc, offset, tokenCount);
      keys = arith::MinSIOp::create(
                 b, loc, getValueOrCreateConstantIndexOp(b, loc, keys), end)
                 .getResult();
      key = sliceLeading(b, loc, key, keys);
      value = sliceLeading(b, loc, value, keys);
    } else {
      offset = arith::SubIOp::create(
          b, loc, getValueOrCreateConstantIndexOp(b, loc, keys), tokenCount);
    }
    OpFoldResult kvHeads = tensor::getMixedSize(b, loc, key, 1);
    OpFoldResult valueDim = tensor::getMixedSize(b, loc, value, 2);
    auto [query, group] = groupQueryHeads(b, op, kvHeads);
    SmallVector<OpFoldResult> rowSizes = {tokens, kvHeads, group};

    // scores[t, g, r, s] = q[t, g, r, :] · k[s, g, :]   loops (t, g, r, s, c)
    SmallVector<OpFoldResult> scoreSizes = {tokens, kvHeads, group, keys};
    Value scores =
        buildContraction(b, loc, query, selectDims(ctx, {0, 1, 2, 4}, 5), key,
                         selectDims(ctx, {3, 1, 4}, 5),
                         filledTensor(b, loc, scoreSizes, f32, 0.0));
    scores = maskScores(b, op, scores, offset);
    auto [numerators, sums] = buildSoftmaxNumerators(b, loc, scores, rowSizes);

    // out[t, g, r, e] = sum_s p[t, g, r, s] * v[s, g, e]   loops (t, g, r, e,
    // s)
    SmallVector<OpFoldResult> outSizes = {tokens, kvHeads, group, valueDim};
    Value weighted =
        buildContraction(b, loc, numerators, selectDims(ctx, {0, 1, 2, 4}, 5),
                         value, selectDims(ctx, {4, 1, 3}, 5),
                         filledTensor(b, loc, outSizes, f32, 0.0));

    // Normalize; a row without a visible key (sum 0) yields zeros.
    Type elementType = op.getType().getElementType();
    Value zero = f32Const(b, loc, 0.0);
    Value normalized = buildGeneric(
        b, loc, outSizes, elementType, ValueRange{weighted, sums},
        {b.getMultiDimIdentityMap(4), selectDims(ctx, {0, 1, 2}, 4)},
        [&](OpBuilder &nb, Location l, ValueRange a) -> SmallVector<Value> {
          Value empty = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OEQ,
                                              a[1], zero);
          Value quotient = arith::DivFOp::create(nb, l, a[0], a[1]);
          Value result = arith::SelectOp::create(nb, l, empty, zero, quotient);
          return {castFloat(nb, l, result, elementType)};
        });
    Value result = tensor::CollapseShapeOp::create(b, loc, normalized,
                                                   {ReassociationIndices{0},
                                                    ReassociationIndices{1, 2},
                                                    ReassociationIndices{3}});
    rewriter.replaceOp(op, castToType(b, loc, result, op.getType()));
    return success();
  }
};
} // namespace

//===----------------------------------------------------------------------===//
// llm.linear, llm.logits, llm.mlp
//===----------------------------------------------------------------------===//

/// `f32` projection `y` (`[M, N]`) plus an optional `[N]` bias, cast to
/// `elementType`; `y` itself when there is nothing to do.
static Value buildEpilogue(OpBuilder &b, Location loc, Value y, Value bias,
                           Type elementType) {
  if (!bias)
    return castElements(b, loc, y, elementType);
  MLIRContext *ctx = b.getContext();
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, y);
  SmallVector<AffineMap> maps = {
      AffineMap::getMultiDimIdentityMap(2, ctx),
      AffineMap::get(2, 0, getAffineDimExpr(1, ctx))};
  return buildGeneric(
      b, loc, sizes, elementType, ValueRange{y, bias}, maps,
      [&](OpBuilder &nb, Location l, ValueRange a) -> SmallVector<Value> {
        Value sum = arith::AddFOp::create(nb, l, a[0], toF32(nb, l, a[1]));
        return {castFloat(nb, l, sum, elementType)};
      });
}

namespace {
/// Flattened leading dimensions, a projection, then bias and result type.
struct LinearLowering : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = op.getInput();
    Value matrix = flattenToMatrix(rewriter, loc, input);
    Value y = buildProjection(rewriter, loc, matrix, op.getWeight());
    y = buildEpilogue(rewriter, loc, y, op.getBias(),
                      op.getType().getElementType());
    Value result = unflattenMatrix(rewriter, loc, y, input);
    rewriter.replaceOp(op, castToType(rewriter, loc, result, op.getType()));
    return success();
  }
};
} // namespace

namespace {
/// A projection of every position, or of the last one with `last_only`.
struct LogitsLowering : OpRewritePattern<LogitsOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LogitsOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value hidden = op.getHidden();
    if (op.getLastOnly())
      hidden = lastPosition(rewriter, loc, hidden);
    Value matrix = flattenToMatrix(rewriter, loc, hidden);
    Value y = buildProjection(rewriter, loc, matrix, op.getWeight());
    y = buildEpilogue(rewriter, loc, y, Value(), op.getType().getElementType());
    Value result = unflattenMatrix(rewriter, loc, y, hidden);
    rewriter.replaceOp(op, castToType(rewriter, loc, result, op.getType()));
    return success();
  }

private:
  /// `[..., T, D] -> [..., D]`: the slice at position T - 1.
  static Value lastPosition(OpBuilder &b, Location loc, Value hidden) {
    auto type = cast<RankedTensorType>(hidden.getType());
    int64_t rank = type.getRank(), axis = rank - 2;
    SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, hidden);
    SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
    Value length = getValueOrCreateConstantIndexOp(b, loc, sizes[axis]);
    offsets[axis] = arith::SubIOp::create(b, loc, length, indexConst(b, loc, 1))
                        .getResult();
    sizes[axis] = b.getIndexAttr(1);
    SmallVector<int64_t> shape(type.getShape());
    shape.erase(shape.begin() + axis);
    auto sliceType = RankedTensorType::get(shape, type.getElementType());
    return tensor::ExtractSliceOp::create(b, loc, sliceType, hidden, offsets,
                                          sizes, strides);
  }
};
} // namespace

/// GELU, tanh approximation as GGML computes it:
/// `0.5 x (1 + tanh(sqrt(2/pi) x (1 + 0.044715 x^2)))`.
static Value buildGelu(OpBuilder &b, Location loc, Value x) {
  Value xSquared = arith::MulFOp::create(b, loc, x, x);
  Value inner = arith::AddFOp::create(
      b, loc, f32Const(b, loc, 1.0),
      arith::MulFOp::create(b, loc, f32Const(b, loc, 0.044715), xSquared));
  Value argument = arith::MulFOp::create(
      b, loc,
      arith::MulFOp::create(b, loc, f32Const(b, loc, std::sqrt(2.0 / M_PI)), x),
      inner);
  Value tanh = math::TanhOp::create(b, loc, argument);
  Value halfX = arith::MulFOp::create(b, loc, f32Const(b, loc, 0.5), x);
  return arith::MulFOp::create(
      b, loc, halfX,
      arith::AddFOp::create(b, loc, f32Const(b, loc, 1.0), tanh));
}

/// SiLU: `x / (1 + exp(-x))`. The exponential may be approximate (`afn`):
/// on the CPU, kvant-approximate-exp makes it a vector polynomial.
static Value buildSilu(OpBuilder &b, Location loc, Value x) {
  Value negated = arith::NegFOp::create(b, loc, x);
  Value exp = math::ExpOp::create(b, loc, negated, arith::FastMathFlags::afn);
  Value denominator = arith::AddFOp::create(b, loc, f32Const(b, loc, 1.0), exp);
  return arith::DivFOp::create(b, loc, x, denominator);
}

namespace {
/// Up (and gate) projections, the activation elementwise in f32, the down
/// projection.
struct MlpLowering : OpRewritePattern<MlpOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MlpOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = op.getInput();
    Value matrix = flattenToMatrix(rewriter, loc, input);
    Value up = buildProjection(rewriter, loc, matrix, op.getUp());
    Type f32 = rewriter.getF32Type();
    MlpActivation activation = op.getActivation();
    Value hidden;
    if (op.isGated()) {
      Value gate = buildProjection(rewriter, loc, matrix, op.getGate());
      hidden = buildElementwise(
          rewriter, loc, ValueRange{gate, up}, f32,
          [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            Value activated = activation == MlpActivation::SwiGLU
                                  ? buildSilu(b, l, a[0])
                                  : buildGelu(b, l, a[0]);
            return {arith::MulFOp::create(b, l, activated, a[1])};
          });
    } else {
      hidden = buildElementwise(
          rewriter, loc, ValueRange{up}, f32,
          [&](OpBuilder &b, Location l, ValueRange a) -> SmallVector<Value> {
            return {buildGelu(b, l, a[0])};
          });
    }
    Value down = buildProjection(rewriter, loc, hidden, op.getDown());
    down = buildEpilogue(rewriter, loc, down, Value(),
                         op.getType().getElementType());
    Value result = unflattenMatrix(rewriter, loc, down, input);
    rewriter.replaceOp(op, castToType(rewriter, loc, result, op.getType()));
    return success();
  }
};
} // namespace

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

/// Reports every op this lowering cannot handle, with the reason, before any
/// rewriting starts.
static LogicalResult checkLowerable(Operation *root) {
  bool lowerable = true;
  root->walk([&](Operation *op) {
    if (auto embedding = dyn_cast<EmbeddingOp>(op)) {
      auto table =
          dyn_cast<QuantizedTensorType>(embedding.getTable().getType());
      if (table && !isa<GGUFSchemeAttr>(table.getScheme())) {
        embedding.emitOpError("cannot gather rows of a ")
            << table.getScheme()
            << " table: only GGUF block formats are gathered by their bytes";
        lowerable = false;
      }
    }
    if (auto rope = dyn_cast<RopeOp>(op);
        rope && ShapedType::isDynamic(rope.getRotaryDimOrHeadDim())) {
      rope.emitOpError("needs a static head dimension or rotary_dim to be "
                       "lowered");
      lowerable = false;
    }
  });
  return success(lowerable);
}

namespace {
struct ConvertLLMToLinalgPass
    : kvant::impl::ConvertLLMToLinalgPassBase<ConvertLLMToLinalgPass> {
  void runOnOperation() override {
    Operation *root = getOperation();
    if (failed(checkLowerable(root)))
      return signalPassFailure();

    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    patterns
        .add<EmbeddingLowering, RMSNormLowering, RopeLowering,
             AttentionLowering, LinearLowering, LogitsLowering, MlpLowering>(
            ctx);

    ConversionTarget target(*ctx);
    target.addIllegalDialect<LLMDialect>();
    // Sampling is the runtime's job (lib/Runtime); the op stays.
    target.addLegalOp<SampleOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(root, target, std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
