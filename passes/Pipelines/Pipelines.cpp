//===- Pipelines.cpp - kvant's named pass pipelines -----------------------===//

#include "kvant/Pipelines.h"

#include "dialects/qt/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace {
struct CPUPipelineOptions : public PassPipelineOptions<CPUPipelineOptions> {
  Option<std::string> entry{*this, "entry",
                            llvm::cl::desc("The model's entry function"),
                            llvm::cl::init("forward")};
  Option<bool> parallel{
      *this, "parallel",
      llvm::cl::desc("Run the parallel loops of each op on OpenMP threads"),
      llvm::cl::init(false)};
};
} // namespace

void kvant::buildOptimizePipeline(OpPassManager &pm) {
  pm.addPass(qt::createFuseDequantPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

std::string kvant::getCPUPipeline(const std::string &entry, bool parallel) {
  // Kept as text so that each stage is a flag users can run, print and
  // replace with kvant-opt; the stages are:
  //   model level:  fuse dequantization, clean up
  //   loop level:   llm and qt ops to linalg, the KV cache to tensors, the
  //                 entry point to the artifact's ABI
  //   buffers:      one-shot bufferization, deallocation
  //   loops:        serial, or the parallel dimensions of every linalg op as
  //                 OpenMP work-sharing loops over the cores
  //   LLVM:         the LLVM dialect
  std::string pipeline =
      "qt-fuse-dequant, canonicalize, cse, "
      "convert-llm-to-linalg, kv-lower-to-tensor, "
      "kvant-bind-abi{entry=" +
      entry +
      "}, "
      "qt-lower-to-linalg, func.func(convert-elementwise-to-linalg), "
      "canonicalize, cse, "
      "one-shot-bufferize{bufferize-function-boundaries "
      "function-boundary-type-conversion=identity-layout-map}, "
      "buffer-deallocation-pipeline, kvant-memref-copy-to-linalg, ";
  if (parallel)
    // finalize-memref-to-llvm lowers the alloca scopes that scf-to-openmp
    // creates, so it runs while their bodies are still single blocks.
    pipeline += "func.func(convert-linalg-to-parallel-loops), "
                "convert-scf-to-openmp, expand-strided-metadata, lower-affine, "
                "finalize-memref-to-llvm, convert-scf-to-cf, ";
  else
    pipeline += "func.func(convert-linalg-to-loops), convert-scf-to-cf, "
                "expand-strided-metadata, lower-affine, "
                "finalize-memref-to-llvm, ";
  pipeline += "convert-math-to-llvm, convert-math-to-libm, "
              "convert-arith-to-llvm, ";
  if (parallel)
    pipeline += "convert-openmp-to-llvm, ";
  pipeline += "convert-cf-to-llvm, convert-func-to-llvm, convert-ub-to-llvm, "
              "reconcile-unrealized-casts";
  return pipeline;
}

LogicalResult kvant::buildCPUPipeline(OpPassManager &pm,
                                      const std::string &entry,
                                      bool parallel) {
  std::string errors;
  llvm::raw_string_ostream errorStream(errors);
  if (failed(parsePassPipeline(getCPUPipeline(entry, parallel), pm, errorStream))) {
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
  PassPipelineRegistration<CPUPipelineOptions>(
      "kvant-cpu-pipeline",
      "Compile an imported model to the LLVM dialect for the CPU",
      [](OpPassManager &pm, const CPUPipelineOptions &options) {
        (void)buildCPUPipeline(pm, options.entry, options.parallel);
      });
}
