//===- ParallelThreshold.cpp - serial versions of little parallel loops ---===//
//
// A decode step has ~20 parallel loops per layer; about half of them (norms,
// rope, activation quantization, residual adds) have one token's worth of
// work, less than the fork and join of an OpenMP team cost, and even a region
// that OpenMP runs on the calling thread enters its runtime three times. The
// pass description (Passes.td) states the rule; this file estimates the work
// and builds the serial version.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/Passes.h"

#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"

namespace kvant {
#define GEN_PASS_DEF_PARALLELTHRESHOLDPASS
#include "passes/Transforms/Passes.h.inc"
} // namespace kvant

using namespace mlir;

/// The operations that one execution of `region` runs: each op counts one,
/// plus its regions' work, times its trip count for an scf.for (the constant
/// one, else `dynamicTrips`). Saturates instead of overflowing.
static int64_t estimateWork(Region &region, int64_t dynamicTrips) {
  constexpr int64_t kCap = int64_t(1) << 40;
  int64_t work = 0;
  region.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (auto loop = dyn_cast<scf::ForOp>(op)) {
      int64_t trips = dynamicTrips;
      if (std::optional<APInt> count = loop.getStaticTripCount())
        trips = count->getSExtValue();
      int64_t body = estimateWork(loop.getRegion(), dynamicTrips);
      work = std::min(kCap, work + 1 + std::min(kCap, trips * body));
      return WalkResult::skip();
    }
    work = std::min(kCap, work + 1);
    return WalkResult::advance();
  });
  return work;
}

/// Whether `loop` or a parallel loop inside it has results or reductions,
/// which the serial version does not handle.
static bool hasReductions(scf::ParallelOp loop) {
  bool found = false;
  loop.walk([&](scf::ParallelOp inner) {
    found |= inner.getNumResults() != 0 || !inner.getInitVals().empty();
  });
  return found;
}

/// Replaces `loop` and every parallel loop nested in it by nests of scf.for.
static LogicalResult serialize(RewriterBase &rewriter, scf::ParallelOp loop) {
  SmallVector<scf::ParallelOp> loops;
  // Post-order: inner loops first, so each conversion sees plain bodies.
  loop.walk([&](scf::ParallelOp inner) { loops.push_back(inner); });
  for (scf::ParallelOp inner : loops) {
    rewriter.setInsertionPoint(inner);
    if (failed(scf::parallelForToNestedFors(rewriter, inner)))
      return failure();
  }
  return success();
}

namespace {
struct ParallelThresholdPass
    : kvant::impl::ParallelThresholdPassBase<ParallelThresholdPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<scf::ParallelOp> outermost;
    getOperation()->walk([&](scf::ParallelOp loop) {
      if (!loop->getParentOfType<scf::ParallelOp>() && !hasReductions(loop))
        outermost.push_back(loop);
    });
    IRRewriter rewriter(&getContext());
    for (scf::ParallelOp loop : outermost)
      if (failed(version(rewriter, loop))) {
        loop.emitOpError("could not be given a serial version");
        return signalPassFailure();
      }
  }

  /// Keeps `loop` parallel when its work reaches `minWork`, makes it serial
  /// when it does not, and puts both versions under an scf.if when that is
  /// only known at run time.
  LogicalResult version(RewriterBase &rewriter, scf::ParallelOp loop) {
    int64_t bodyWork = estimateWork(loop.getRegion(), dynamicTrips);
    std::optional<int64_t> staticTrips = 1;
    for (auto [lb, ub, step] : llvm::zip(
             loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
      std::optional<int64_t> l = getConstantIntValue(lb),
                             u = getConstantIntValue(ub),
                             s = getConstantIntValue(step);
      if (!l || !u || !s || *s <= 0 || !staticTrips) {
        staticTrips = std::nullopt;
        continue;
      }
      *staticTrips *= std::max<int64_t>(0, llvm::divideCeilSigned(*u - *l, *s));
    }
    if (staticTrips) {
      // trips >= minWork / bodyWork: the product could overflow.
      bool worth =
          bodyWork == 0 ||
          *staticTrips >= llvm::divideCeilSigned(int64_t(minWork), bodyWork);
      return worth ? success() : serialize(rewriter, loop);
    }

    Location loc = loop.getLoc();
    rewriter.setInsertionPoint(loop);
    Value trips = arith::ConstantIndexOp::create(rewriter, loc, 1);
    for (auto [lb, ub, step] : llvm::zip(
             loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
      Value span = arith::SubIOp::create(rewriter, loc, ub, lb);
      Value count = arith::CeilDivSIOp::create(rewriter, loc, span, step);
      trips = arith::MulIOp::create(rewriter, loc, trips, count);
    }
    Value work = arith::MulIOp::create(
        rewriter, loc, trips,
        arith::ConstantIndexOp::create(rewriter, loc, bodyWork));
    Value worth = arith::CmpIOp::create(
        rewriter, loc, arith::CmpIPredicate::sge, work,
        arith::ConstantIndexOp::create(rewriter, loc, minWork));
    auto ifOp = scf::IfOp::create(rewriter, loc, worth,
                                  /*withElseRegion=*/true);
    rewriter.moveOpBefore(loop, ifOp.thenBlock()->getTerminator());
    rewriter.setInsertionPoint(ifOp.elseBlock()->getTerminator());
    auto serial = cast<scf::ParallelOp>(rewriter.clone(*loop));
    return serialize(rewriter, serial);
  }
};
} // namespace
