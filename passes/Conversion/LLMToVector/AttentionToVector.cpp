//===- AttentionToVector.cpp - llm.attention as vector loops over keys ----===//
//
// Decode attends one query row per head to every cached key. The reference
// lowering spends about eight loop nests on it (scores, mask, max,
// exponentials, sum, P · V, normalization), each an OpenMP region on the
// CPU whose inner reduction strides across cache rows one float at a time;
// on TinyLlama-1.1B it measured 10% of a decode step with ~100 cached keys.
// This lowering makes attention one parallel loop over (query position,
// key/value head): each visible key and value row is read once, as a
// vector, and a running max and sum (online softmax) replace the score
// tensor. The pass description in Passes.td shows the loop nest.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/Passes.h"

#include "passes/Conversion/Common/AttentionVisibility.h"

#include "dialects/llm/IR/LLMOps.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace kvant {
#define GEN_PASS_DEF_LOWERATTENTIONTOVECTORPASS
#include "passes/Conversion/Passes.h.inc"
} // namespace kvant

using namespace mlir;
using namespace kvant::llm;

namespace {
/// The static sizes the vector loops are built for.
struct AttentionShape {
  int64_t queryHeads, kvHeads, group, headDim, valueDim;
};
} // namespace

/// The op's head counts and sizes when all are static (the vectors' sizes),
/// else nothing: such attention stays for the reference lowering.
static std::optional<AttentionShape> getStaticShape(AttentionOp op) {
  RankedTensorType query = op.getQuery().getType();
  RankedTensorType key = op.getKey().getType();
  RankedTensorType value = op.getValue().getType();
  AttentionShape shape{query.getDimSize(1), key.getDimSize(1), 0,
                       query.getDimSize(2), value.getDimSize(2)};
  for (int64_t size : {shape.queryHeads, shape.kvHeads, shape.headDim,
                       shape.valueDim, key.getDimSize(2), value.getDimSize(1)})
    if (ShapedType::isDynamic(size))
      return std::nullopt;
  shape.group = shape.queryHeads / shape.kvHeads;
  return shape;
}

static Value f32Const(OpBuilder &b, Location loc, float value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

static Value f32Splat(OpBuilder &b, Location loc, int64_t size, float value) {
  auto type = VectorType::get({size}, b.getF32Type());
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, b.getF32FloatAttr(value)));
}

/// `source[indices..., 0 : size]` as a vector<size x f32>.
static Value readRow(OpBuilder &b, Location loc, Value source,
                     ValueRange indices, int64_t size) {
  Type element = cast<RankedTensorType>(source.getType()).getElementType();
  SmallVector<Value> at(indices);
  at.push_back(arith::ConstantIndexOp::create(b, loc, 0));
  Value pad = arith::ConstantOp::create(b, loc, b.getZeroAttr(element));
  Value row =
      vector::TransferReadOp::create(b, loc, VectorType::get({size}, element),
                                     source, at, pad, ArrayRef<bool>{true});
  if (element.isF32())
    return row;
  return arith::ExtFOp::create(b, loc, VectorType::get({size}, b.getF32Type()),
                               row);
}

/// Lane `lane` of `vec` broadcast to a vector<size x f32>.
static Value splatLane(OpBuilder &b, Location loc, Value vec, int64_t lane,
                       int64_t size) {
  Value scalar =
      vector::ExtractOp::create(b, loc, vec, ArrayRef<int64_t>{lane});
  return vector::BroadcastOp::create(
      b, loc, VectorType::get({size}, b.getF32Type()), scalar);
}

namespace {
/// Builds the loop nest of one llm.attention op.
class AttentionBuilder {
public:
  AttentionBuilder(AttentionOp op, AttentionShape shape)
      : op(op), shape(shape) {}

  /// The [T, Hq, Dv] result, in the op's result type.
  Value build(OpBuilder &b);

private:
  /// The body of the forall over (t, g): queries, key loop, normalization.
  void buildBody(OpBuilder &b, scf::ForallOp forall, Value offset);
  /// The online-softmax loop over the keys of query row `t` and key/value
  /// head `g`: returns l (vector<G>) and the G unnormalized outputs.
  SmallVector<Value> buildKeyLoop(OpBuilder &b, Location loc, Value t, Value g,
                                  ArrayRef<Value> queries, Value offset);
  /// One step of the key loop for key `j`.
  SmallVector<Value> buildKeyStep(OpBuilder &b, Location loc, Value t, Value g,
                                  Value j, ArrayRef<Value> queries,
                                  Value position, Value offset,
                                  ValueRange carried);
  /// An exponential that may be approximate (`afn`): kvant-approximate-exp
  /// makes it a vector polynomial rather than a libm call per lane.
  Value exp(OpBuilder &b, Location loc, Value x) {
    return math::ExpOp::create(b, loc, x, arith::FastMathFlags::afn);
  }

  AttentionOp op;
  AttentionShape shape;
};
} // namespace

SmallVector<Value> AttentionBuilder::buildKeyStep(OpBuilder &b, Location loc,
                                                  Value t, Value g, Value j,
                                                  ArrayRef<Value> queries,
                                                  Value position, Value offset,
                                                  ValueRange carried) {
  int64_t group = shape.group;
  Value key = readRow(b, loc, op.getKey(), {j, g}, shape.headDim);
  SmallVector<Value> dots;
  for (Value q : queries) {
    Value products = arith::MulFOp::create(b, loc, q, key);
    dots.push_back(vector::ReductionOp::create(
        b, loc, vector::CombiningKind::ADD, products));
  }
  auto groupType = VectorType::get({group}, b.getF32Type());
  Value scores = vector::FromElementsOp::create(b, loc, groupType, dots);
  Value negInf = f32Splat(b, loc, group, -INFINITY);
  AttentionMaskAttrInterface mask = op.getMask();
  if (!isa<CausalMaskAttr>(mask)) {
    // The loop bound already hides later keys; other masks hide more.
    Value visible = buildAttentionVisibility(b, loc, mask, t, position, j,
                                             op.getTreeMask(), offset);
    scores = arith::SelectOp::create(b, loc, visible, scores, negInf);
  }

  Value max = carried[0], sum = carried[1];
  Value newMax = arith::MaximumFOp::create(b, loc, max, scores);
  // While a row has seen no visible key its max is -inf: subtract 0 then,
  // so that exp(-inf - -inf) does not make NaN (both exponentials are 0).
  Value empty =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, newMax, negInf);
  Value shift = arith::SelectOp::create(b, loc, empty,
                                        f32Splat(b, loc, group, 0.0f), newMax);
  Value rescale = exp(b, loc, arith::SubFOp::create(b, loc, max, shift));
  Value weight = exp(b, loc, arith::SubFOp::create(b, loc, scores, shift));
  Value newSum = vector::FMAOp::create(b, loc, sum, rescale, weight);

  Value value = readRow(b, loc, op.getValue(), {j, g}, shape.valueDim);
  SmallVector<Value> next = {newMax, newSum};
  for (int64_t r = 0; r < group; ++r) {
    Value acc = carried[2 + r];
    Value scaled = arith::MulFOp::create(
        b, loc, acc, splatLane(b, loc, rescale, r, shape.valueDim));
    next.push_back(vector::FMAOp::create(
        b, loc, splatLane(b, loc, weight, r, shape.valueDim), value, scaled));
  }
  return next;
}

SmallVector<Value> AttentionBuilder::buildKeyLoop(OpBuilder &b, Location loc,
                                                  Value t, Value g,
                                                  ArrayRef<Value> queries,
                                                  Value offset) {
  // Every mask is causal: keys after the query's position are never read.
  Value position = arith::AddIOp::create(b, loc, offset, t);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value keys = tensor::DimOp::create(b, loc, op.getKey(), 0);
  Value end = arith::MinSIOp::create(
      b, loc, keys, arith::AddIOp::create(b, loc, position, one));
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);

  SmallVector<Value> init = {f32Splat(b, loc, shape.group, -INFINITY),
                             f32Splat(b, loc, shape.group, 0.0f)};
  for (int64_t r = 0; r < shape.group; ++r)
    init.push_back(f32Splat(b, loc, shape.valueDim, 0.0f));
  auto loop = scf::ForOp::create(
      b, loc, zero, end, one, init,
      [&](OpBuilder &lb, Location lloc, Value j, ValueRange carried) {
        scf::YieldOp::create(lb, lloc,
                             buildKeyStep(lb, lloc, t, g, j, queries, position,
                                          offset, carried));
      });
  SmallVector<Value> results(loop.getResults().begin() + 1,
                             loop.getResults().end());
  return results;
}

Value AttentionBuilder::build(OpBuilder &b) {
  Location loc = op.getLoc();
  Value query = op.getQuery();
  Value tokens = tensor::DimOp::create(b, loc, query, 0);
  Value offset = op.getOffset();
  if (!offset)
    offset = arith::SubIOp::create(
        b, loc, tensor::DimOp::create(b, loc, op.getKey(), 0), tokens);

  RankedTensorType resultType = op.getType();
  Type resultElement = resultType.getElementType();
  Value init = tensor::EmptyOp::create(
      b, loc,
      ArrayRef<OpFoldResult>{tokens, b.getIndexAttr(shape.queryHeads),
                             b.getIndexAttr(shape.valueDim)},
      resultElement);
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{tokens, b.getIndexAttr(shape.kvHeads)},
      ValueRange{init}, std::nullopt);
  buildBody(b, forall, offset);
  Value result = forall.getResult(0);
  if (result.getType() != resultType)
    result = tensor::CastOp::create(b, loc, resultType, result);
  return result;
}

void AttentionBuilder::buildBody(OpBuilder &b, scf::ForallOp forall,
                                 Value offset) {
  OpBuilder::InsertionGuard guard(b);
  Location loc = op.getLoc();
  Type f32 = b.getF32Type();
  int64_t group = shape.group;
  Type resultElement = op.getType().getElementType();
  b.setInsertionPoint(forall.getTerminator());
  Value t = forall.getInductionVars()[0], g = forall.getInductionVars()[1];
  Value out = forall.getRegionIterArgs()[0];

  // The G query rows of this key/value head, scaled once here instead of
  // every score in the loop.
  Value firstHead = arith::MulIOp::create(
      b, loc, g, arith::ConstantIndexOp::create(b, loc, group));
  Value scale =
      vector::BroadcastOp::create(b, loc, VectorType::get({shape.headDim}, f32),
                                  f32Const(b, loc, op.getScaleOrDefault()));
  SmallVector<Value> queries;
  for (int64_t r = 0; r < group; ++r) {
    Value head = arith::AddIOp::create(
        b, loc, firstHead, arith::ConstantIndexOp::create(b, loc, r));
    Value row = readRow(b, loc, op.getQuery(), {t, head}, shape.headDim);
    queries.push_back(arith::MulFOp::create(b, loc, row, scale));
  }
  SmallVector<Value> loop = buildKeyLoop(b, loc, t, g, queries, offset);
  Value sums = loop[0];

  // Rows [t, g*G .. g*G + G) of the result, normalized; a row that saw no
  // key (sum 0) yields zeros.
  SmallVector<OpFoldResult> offsets = {t, firstHead, b.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(group),
                                     b.getIndexAttr(shape.valueDim)};
  SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
  auto tileType = RankedTensorType::get({group, shape.valueDim}, resultElement);
  Value tile = tensor::ExtractSliceOp::create(b, loc, tileType, out, offsets,
                                              sizes, strides);
  Value zero = f32Const(b, loc, 0.0f);
  Value zeros = f32Splat(b, loc, shape.valueDim, 0.0f);
  for (int64_t r = 0; r < group; ++r) {
    Value sum = vector::ExtractOp::create(b, loc, sums, ArrayRef<int64_t>{r});
    Value none =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, sum, zero);
    Value divisor = vector::BroadcastOp::create(
        b, loc, VectorType::get({shape.valueDim}, f32), sum);
    Value quotient = arith::DivFOp::create(b, loc, loop[1 + r], divisor);
    Value row = arith::SelectOp::create(b, loc, none, zeros, quotient);
    if (resultElement != f32)
      row = arith::TruncFOp::create(
          b, loc, VectorType::get({shape.valueDim}, resultElement), row);
    Value at = arith::ConstantIndexOp::create(b, loc, r);
    Value start = arith::ConstantIndexOp::create(b, loc, 0);
    tile = vector::TransferWriteOp::create(
               b, loc, row, tile, ValueRange{at, start}, ArrayRef<bool>{true})
               .getResult();
  }
  b.setInsertionPointToEnd(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, tile, out, offsets, sizes,
                                        strides);
}

namespace {
struct LowerAttentionToVectorPass
    : kvant::impl::LowerAttentionToVectorPassBase<LowerAttentionToVectorPass> {
  void runOnOperation() override {
    SmallVector<std::pair<AttentionOp, AttentionShape>> ops;
    getOperation()->walk([&](AttentionOp op) {
      if (std::optional<AttentionShape> shape = getStaticShape(op))
        ops.push_back({op, *shape});
    });
    IRRewriter rewriter(&getContext());
    for (auto [op, shape] : ops) {
      rewriter.setInsertionPoint(op);
      Value result = AttentionBuilder(op, shape).build(rewriter);
      rewriter.replaceOp(op, result);
    }
  }
};
} // namespace
