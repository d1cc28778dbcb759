//===- FuseDequant.cpp - fold dequantization into matmuls -----------------===//

#include "dialects/llm/IR/LLMOps.h"
#include "dialects/qt/IR/QtOps.h"
#include "dialects/qt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kvant::qt {
#define GEN_PASS_DEF_FUSEDEQUANTPASS
#include "dialects/qt/Transforms/Passes.h.inc"
} // namespace kvant::qt

using namespace mlir;
using namespace kvant;
using namespace kvant::qt;

namespace {

/// True if `value` is a tensor filled with +0.0 (a fresh accumulator).
static bool isZeroFilled(Value value) {
  if (auto fill = value.getDefiningOp<linalg::FillOp>())
    return matchPattern(fill.value(), m_PosZeroFloat());
  return matchPattern(value, m_PosZeroFloat());
}

/// The quantized weight read as the transposed right operand of `matmul`:
/// either `qt.dequantize %w` under a `(m, n, k) -> (n, k)` indexing map, or
/// `linalg.transpose` of `qt.dequantize %w` under the default maps.
static Value getTransposedQuantizedWeight(linalg::MatmulOp matmul) {
  MLIRContext *ctx = matmul.getContext();
  AffineExpr m, n, k;
  bindDims(ctx, m, n, k);
  auto map = [&](ArrayRef<AffineExpr> results) {
    return AffineMap::get(3, 0, results, ctx);
  };
  SmallVector<AffineMap> maps = matmul.getIndexingMapsArray();
  SmallVector<AffineMap> transposedB = {map({m, k}), map({n, k}), map({m, n})};
  Value rhs = matmul.getDpsInputs()[1];
  if (maps == transposedB) {
    if (auto dequant = rhs.getDefiningOp<DequantizeOp>())
      return dequant.getInput();
    return {};
  }
  if (maps != matmul.getDefaultIndexingMaps(ctx))
    return {};
  auto transpose = rhs.getDefiningOp<linalg::TransposeOp>();
  if (!transpose || transpose.getPermutation() != ArrayRef<int64_t>{1, 0})
    return {};
  if (auto dequant = transpose.getInput().getDefiningOp<DequantizeOp>())
    return dequant.getInput();
  return {};
}

/// linalg.matmul(x, transpose(dequantize(w))) -> qt.matmul(x, w).
struct FuseIntoLinalgMatmul : OpRewritePattern<linalg::MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::MatmulOp matmul,
                                PatternRewriter &rewriter) const override {
    if (!matmul.hasPureTensorSemantics())
      return rewriter.notifyMatchFailure(matmul, "needs tensor semantics");
    Value weight = getTransposedQuantizedWeight(matmul);
    if (!weight)
      return rewriter.notifyMatchFailure(matmul, "rhs is no dequantization");
    Value lhs = matmul.getDpsInputs()[0];
    Value init = matmul.getDpsInits()[0];
    auto resultType = cast<RankedTensorType>(matmul.getResult(0).getType());
    if (!isa<FloatType>(resultType.getElementType()) ||
        cast<RankedTensorType>(lhs.getType()).getElementType() !=
            resultType.getElementType())
      return rewriter.notifyMatchFailure(matmul, "needs one float type");

    Location loc = matmul.getLoc();
    Value product =
        MatmulOp::create(rewriter, loc, resultType, lhs, weight).getResult();
    if (!isZeroFilled(init))
      product = arith::AddFOp::create(rewriter, loc, init, product);
    rewriter.replaceOp(matmul, product);
    return success();
  }
};

/// Points every weight operand of an llm op that is a `qt.dequantize` at the
/// quantized tensor instead: llm ops accept `!qt.tensor` weights and their
/// lowerings dequantize inside the loops. A bias-free `llm.linear` becomes
/// `qt.matmul` outright.
template <typename OpTy> struct UseQuantizedWeights : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  static SmallVector<OpOperand *> weightOperands(OpTy op) {
    SmallVector<OpOperand *> operands;
    auto add = [&](MutableOperandRange range) {
      for (OpOperand &operand : range)
        operands.push_back(&operand);
    };
    if constexpr (std::is_same_v<OpTy, kvant::llm::EmbeddingOp>)
      add(op.getTableMutable());
    if constexpr (std::is_same_v<OpTy, kvant::llm::MlpOp>) {
      add(op.getGateMutable());
      add(op.getUpMutable());
      add(op.getDownMutable());
    }
    if constexpr (std::is_same_v<OpTy, kvant::llm::LinearOp> ||
                  std::is_same_v<OpTy, kvant::llm::LogitsOp>)
      add(op.getWeightMutable());
    return operands;
  }

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if constexpr (std::is_same_v<OpTy, kvant::llm::LinearOp>) {
      auto dequant = op.getWeight().template getDefiningOp<DequantizeOp>();
      if (dequant && !op.getBias()) {
        rewriter.replaceOpWithNewOp<MatmulOp>(op, op.getType(), op.getInput(),
                                              dequant.getInput());
        return success();
      }
    }
    bool changed = false;
    for (OpOperand *operand : weightOperands(op)) {
      auto dequant = operand->get().template getDefiningOp<DequantizeOp>();
      if (!dequant)
        continue;
      rewriter.modifyOpInPlace(op, [&] { operand->set(dequant.getInput()); });
      changed = true;
    }
    return success(changed);
  }
};

struct FuseDequantPass
    : public kvant::qt::impl::FuseDequantPassBase<FuseDequantPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseIntoLinalgMatmul, UseQuantizedWeights<llm::EmbeddingOp>,
                 UseQuantizedWeights<llm::MlpOp>,
                 UseQuantizedWeights<llm::LinearOp>,
                 UseQuantizedWeights<llm::LogitsOp>>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
