//===- OpenMPSchedule.cpp - the schedule of work-sharing loops ------------===//
//
// convert-scf-to-openmp gives its work-sharing loops no schedule (static);
// the artifacts' thread team balances dynamic ones (Passes.td).
//
//===----------------------------------------------------------------------===//

#include "passes/Transforms/Passes.h"

namespace kvant {
#define GEN_PASS_DEF_OPENMPSCHEDULEPASS
#include "passes/Transforms/Passes.h.inc"
} // namespace kvant

using namespace mlir;

namespace {
struct OpenMPSchedulePass
    : kvant::impl::OpenMPSchedulePassBase<OpenMPSchedulePass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<omp::ClauseScheduleKind> schedule;
    if (kind == "dynamic")
      schedule = omp::ClauseScheduleKind::Dynamic;
    else if (kind != "static") {
      emitError(getOperation()->getLoc())
          << "kvant-omp-schedule: unknown kind '" << kind
          << "' (expected static or dynamic)";
      return signalPassFailure();
    }
    if (!schedule)
      return;
    getOperation()->walk([&](omp::WsloopOp loop) {
      if (!loop.getScheduleKind())
        loop.setScheduleKindAttr(
            omp::ClauseScheduleKindAttr::get(&getContext(), *schedule));
    });
  }
};
} // namespace
