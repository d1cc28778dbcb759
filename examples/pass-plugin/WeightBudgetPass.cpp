//===- WeightBudgetPass.cpp - an example out-of-tree kvant pass -----------===//
//
// `example-weight-budget` sums the bytes of every quantized or float weight a
// module references (`qt.weight`), reports the total as a remark and fails
// when it exceeds `max-mib`. It shows the three things an out-of-tree pass
// needs: kvant's dialect API, a pass option, and located diagnostics.
// docs/WritingAPass.md walks through it.
//
//===----------------------------------------------------------------------===//

#include "dialects/qt/IR/QtOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace {
struct WeightBudgetPass
    : PassWrapper<WeightBudgetPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(WeightBudgetPass)

  WeightBudgetPass() = default;
  WeightBudgetPass(const WeightBudgetPass &other) : PassWrapper(other) {}

  StringRef getArgument() const final { return "example-weight-budget"; }
  StringRef getDescription() const final {
    return "Report the bytes of referenced weights; fail above a budget";
  }

  Option<double> maxMiB{*this, "max-mib",
                        llvm::cl::desc("Budget in MiB (0: no limit)"),
                        llvm::cl::init(0)};

  /// Bytes of a weight, or nullopt if its shape is not static.
  static std::optional<int64_t> weightBytes(kvant::qt::WeightOp weight) {
    Type type = weight.getType();
    if (auto quantized = dyn_cast<kvant::qt::QuantizedTensorType>(type))
      return quantized.getNumBytes();
    auto tensor = cast<RankedTensorType>(type);
    return tensor.getNumElements() *
           llvm::divideCeil(tensor.getElementTypeBitWidth(), 8);
  }

  void runOnOperation() override {
    int64_t total = 0, count = 0;
    getOperation().walk([&](kvant::qt::WeightOp weight) {
      total += *weightBytes(weight);
      ++count;
    });
    std::string mib = llvm::formatv("{0:F3}", total / (1024.0 * 1024.0));
    getOperation().emitRemark()
        << count << " weights, " << total << " bytes (" << mib << " MiB)";
    if (maxMiB > 0 && total > maxMiB * 1024 * 1024) {
      getOperation().emitError()
          << "weights take " << mib << " MiB, over the budget of "
          << llvm::formatv("{0}", maxMiB.getValue()).str() << " MiB";
      signalPassFailure();
    }
  }
};
} // namespace

extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "KvantExamplePassPlugin",
          LLVM_VERSION_STRING, []() { PassRegistration<WeightBudgetPass>(); }};
}
