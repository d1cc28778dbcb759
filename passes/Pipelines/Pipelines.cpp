//===- Pipelines.cpp - kvant's named pass pipelines -----------------------===//

#include "kvant/Pipelines.h"

#include "dialects/qt/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

void kvant::buildOptimizePipeline(OpPassManager &pm) {
  pm.addPass(qt::createFuseDequantPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

std::string kvant::getCPUPipeline(const std::string &entry) {
  // Kept as text so that each stage is a flag users can run, print and
  // replace with kvant-opt; the stages are:
  //   model level:  fuse dequantization, clean up
  //   loop level:   llm and qt ops to linalg, the KV cache to tensors, the
  //                 entry point to the artifact's ABI
  //   buffers:      one-shot bufferization, deallocation
  //   LLVM:         loops, then the LLVM dialect
  return "qt-fuse-dequant, canonicalize, cse, "
         "convert-llm-to-linalg, kv-lower-to-tensor, "
         "kvant-bind-abi{entry=" +
         entry +
         "}, "
         "qt-lower-to-linalg, func.func(convert-elementwise-to-linalg), "
         "canonicalize, cse, "
         "one-shot-bufferize{bufferize-function-boundaries "
         "function-boundary-type-conversion=identity-layout-map}, "
         "buffer-deallocation-pipeline, "
         "kvant-memref-copy-to-linalg, func.func(convert-linalg-to-loops), "
         "convert-scf-to-cf, expand-strided-metadata, lower-affine, "
         "finalize-memref-to-llvm, convert-math-to-llvm, convert-math-to-libm, "
         "convert-arith-to-llvm, convert-cf-to-llvm, convert-func-to-llvm, "
         "convert-ub-to-llvm, reconcile-unrealized-casts";
}

LogicalResult kvant::buildCPUPipeline(OpPassManager &pm,
                                      const std::string &entry) {
  std::string errors;
  llvm::raw_string_ostream errorStream(errors);
  if (failed(parsePassPipeline(getCPUPipeline(entry), pm, errorStream))) {
    llvm::errs() << "kvant: cannot build the CPU pipeline: " << errors << "\n";
    return failure();
  }
  return success();
}

void kvant::registerPipelines() {
  PassPipelineRegistration<>(
      "kvant-optimize-pipeline",
      "Target-independent model optimizations (qt-fuse-dequant, "
      "canonicalize, cse)",
      buildOptimizePipeline);
  PassPipelineRegistration<>(
      "kvant-cpu-pipeline",
      "Compile an imported model to the LLVM dialect for the CPU",
      [](OpPassManager &pm) { (void)buildCPUPipeline(pm); });
}
