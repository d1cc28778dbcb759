//===- InterleaveWeights.cpp - interleaved-row layouts for matmul weights -===//
//
// Decides, per named weight, whether the artifact stores it with the blocks
// of consecutive rows interleaved (see GGUFSchemeAttr). Only the type
// changes here: kvant-bind-abi records the layout and emits the repack, and
// qt-lower-matmul-to-vector reads it.
//
//===----------------------------------------------------------------------===//

#include "dialects/qt/IR/QtOps.h"
#include "dialects/qt/Transforms/Passes.h"

#include "llvm/ADT/MapVector.h"

namespace kvant::qt {
#define GEN_PASS_DEF_INTERLEAVEWEIGHTSPASS
#include "dialects/qt/Transforms/Passes.h.inc"
} // namespace kvant::qt

using namespace mlir;
using namespace kvant;
using namespace kvant::qt;

namespace {

struct InterleaveWeightsPass
    : public kvant::qt::impl::InterleaveWeightsPassBase<InterleaveWeightsPass> {
  using InterleaveWeightsPassBase::InterleaveWeightsPassBase;

  void runOnOperation() override {
    if (rows < 1) {
      getOperation().emitError()
          << "qt-interleave-weights: rows must be at least 1, got "
          << static_cast<int64_t>(rows);
      return signalPassFailure();
    }
    if (rows == 1)
      return;
    // Every op naming a weight: the layout belongs to the name (one slot of
    // the artifact's weight table), so all of them must qualify.
    llvm::MapVector<StringRef, SmallVector<WeightOp>> byName;
    getOperation().walk(
        [&](WeightOp op) { byName[op.getName()].push_back(op); });
    for (auto &[name, ops] : byName) {
      if (!llvm::all_of(ops, [&](WeightOp op) { return qualifies(op); }))
        continue;
      for (WeightOp op : ops) {
        auto type = cast<QuantizedTensorType>(op.getType());
        auto scheme = cast<GGUFSchemeAttr>(type.getScheme());
        auto interleaved =
            GGUFSchemeAttr::get(&getContext(), scheme.getFormat(), rows);
        op.getResult().setType(QuantizedTensorType::get(
            &getContext(), type.getShape(), interleaved));
      }
    }
  }

  /// A static [N, K] block-format matrix in the file's layout, N a multiple
  /// of `rows`, read only as the weight of qt.matmuls.
  bool qualifies(WeightOp op) const {
    auto type = dyn_cast<QuantizedTensorType>(op.getType());
    if (!type || type.getRank() != 2 || !type.hasStaticShape() ||
        type.getShape()[0] % rows != 0)
      return false;
    auto scheme = dyn_cast<GGUFSchemeAttr>(type.getScheme());
    if (!scheme || scheme.isInterleaved() ||
        !shouldInterleaveRows(scheme.getFormat()))
      return false;
    return llvm::all_of(op->getUses(), [](OpOperand &use) {
      auto matmul = dyn_cast<MatmulOp>(use.getOwner());
      return matmul && use.get() == matmul.getWeight();
    });
  }
};

} // namespace
