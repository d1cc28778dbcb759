//===- Pipelines.cpp - kvant's named pass pipelines -----------------------===//

#include "kvant/Pipelines.h"

#include "dialects/qt/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

void kvant::buildOptimizePipeline(mlir::OpPassManager &pm) {
  pm.addPass(qt::createFuseDequantPass());
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
}

void kvant::registerPipelines() {
  mlir::PassPipelineRegistration<>(
      "kvant-optimize-pipeline",
      "Target-independent model optimizations (qt-fuse-dequant, "
      "canonicalize, cse)",
      buildOptimizePipeline);
}
