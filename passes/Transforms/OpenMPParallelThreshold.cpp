//===- OpenMPParallelThreshold.cpp - serial regions for little work -------===//
//
// A decode step runs ~20 OpenMP regions per layer; about half of them (norms,
// rope, activation quantization, residual adds) have one token's worth of
// work, less than the fork and join of the team cost. The pass description
// (Passes.td) states the rule; this file estimates the work and builds the
// `if` condition.
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/Passes.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"

namespace kvant {
#define GEN_PASS_DEF_OPENMPPARALLELTHRESHOLDPASS
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

/// Whether `value` can be used before `op` (it is defined outside it).
static bool isDefinedOutside(Value value, Operation *op) {
  Operation *owner = value.getParentRegion()->getParentOp();
  return owner != op && !op->isAncestor(owner);
}

namespace {
struct OpenMPParallelThresholdPass
    : kvant::impl::OpenMPParallelThresholdPassBase<
          OpenMPParallelThresholdPass> {
  using Base::Base;

  void runOnOperation() override {
    getOperation()->walk([&](omp::ParallelOp parallel) {
      if (parallel.getIfExpr())
        return;
      omp::LoopNestOp nest;
      parallel.walk([&](omp::LoopNestOp n) {
        if (!nest)
          nest = n;
      });
      if (!nest)
        return;
      SmallVector<Value> bounds;
      llvm::append_range(bounds, nest.getLoopLowerBounds());
      llvm::append_range(bounds, nest.getLoopUpperBounds());
      llvm::append_range(bounds, nest.getLoopSteps());
      if (!llvm::all_of(bounds,
                        [&](Value v) { return isDefinedOutside(v, parallel); }))
        return;
      setCondition(parallel, nest,
                   estimateWork(nest.getRegion(), dynamicTrips));
    });
  }

  /// `if(trips * bodyWork >= minWork)` (LLVM folds it when the trips are
  /// constant).
  void setCondition(omp::ParallelOp parallel, omp::LoopNestOp nest,
                    int64_t bodyWork) {
    OpBuilder b(parallel);
    Location loc = parallel.getLoc();
    Value trips = arith::ConstantIndexOp::create(b, loc, 1);
    for (auto [lb, ub, step] :
         llvm::zip(nest.getLoopLowerBounds(), nest.getLoopUpperBounds(),
                   nest.getLoopSteps())) {
      Value span = arith::SubIOp::create(b, loc, ub, lb);
      Value count = arith::CeilDivSIOp::create(b, loc, span, step);
      trips = arith::MulIOp::create(b, loc, trips, count);
    }
    Value work = arith::MulIOp::create(
        b, loc, trips, arith::ConstantIndexOp::create(b, loc, bodyWork));
    Value worth =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, work,
                              arith::ConstantIndexOp::create(b, loc, minWork));
    parallel.getIfExprMutable().assign(worth);
  }
};
} // namespace
