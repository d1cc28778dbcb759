//===- ApproximateExp.cpp - f32 math.exp with afn as a polynomial ---------===//
//
// LLVM has no vector exp: it scalarizes a vector llvm.exp into libm calls,
// one per lane. MLIR's polynomial approximation stays in vector registers;
// the `afn` fast-math flag says where its few ulps of error are acceptable.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/Passes.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kvant {
#define GEN_PASS_DEF_APPROXIMATEEXPPASS
#include "passes/Transforms/Passes.h.inc"
} // namespace kvant

using namespace mlir;

namespace {
struct ApproximateExpPass
    : public kvant::impl::ApproximateExpPassBase<ApproximateExpPass> {
  void runOnOperation() override {
    SmallVector<Operation *> exps;
    getOperation()->walk([&](math::ExpOp exp) {
      if (getElementTypeOrSelf(exp.getType()).isF32() &&
          arith::bitEnumContainsAll(exp.getFastmath(),
                                    arith::FastMathFlags::afn))
        exps.push_back(exp);
    });
    if (exps.empty())
      return;
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
      return name == math::ExpOp::getOperationName();
    });
    // Only the collected ops: others of the same kind keep their libm call.
    if (failed(applyOpPatternsGreedily(exps, std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
