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
  Option<std::string> int8Dot{
      *this, "int8-dot",
      llvm::cl::desc("Integer dot products for block-format matmuls with "
                     "int8-quantized activations: none, generic, avx2 or "
                     "avx2-vnni "
                     "(qt-lower-matmul-to-vector's int8-dot)"),
      llvm::cl::init("none")};
  Option<int64_t> interleaveRows{
      *this, "interleave-rows",
      llvm::cl::desc("With int8-dot: rows whose blocks matmul weights store "
                     "together (qt-interleave-weights; 1 keeps the file's "
                     "layout)"),
      llvm::cl::init(8)};
  Option<int64_t> prefetchDistance{
      *this, "prefetch-distance",
      llvm::cl::desc("Bytes ahead in the weights that decode's GEMVs prefetch "
                     "(qt-lower-matmul-to-vector's prefetch-distance; 0: "
                     "none)"),
      llvm::cl::init(kvant::kDefaultPrefetchDistance)};
  Option<std::string> schedule{
      *this, "schedule",
      llvm::cl::desc("With parallel: the schedule of the work-sharing loops, "
                     "dynamic or static (kvant-omp-schedule's kind)"),
      llvm::cl::init("dynamic")};
  Option<bool> outlineMatmuls{
      *this, "outline-matmuls",
      llvm::cl::desc("Lower each distinct block-format matmul once, in a "
                     "function every layer calls (qt-outline-matmuls)"),
      llvm::cl::init(false)};
};
} // namespace

void kvant::buildOptimizePipeline(OpPassManager &pm) {
  pm.addPass(qt::createFuseDequantPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

std::string kvant::getModelToBuffersPipeline(
    const std::string &entry, const std::string &target, bool vectorizeMatmuls,
    const std::string &int8Dot, int64_t interleaveRows,
    int64_t prefetchDistance, bool outlineMatmuls) {
  // The interleaved layout is read only by the int8 GEMVs.
  bool interleave = vectorizeMatmuls && int8Dot != "none" && interleaveRows > 1;
  bool outline = vectorizeMatmuls && outlineMatmuls;
  // Attention with static head sizes becomes vector loops on the CPU (the
  // same path that vectorizes the matmuls); the rest of llm goes to linalg.
  return std::string("qt-fuse-dequant, canonicalize, cse, ") +
         (vectorizeMatmuls ? "llm-lower-attention-to-vector, " : "") +
         "convert-llm-to-linalg, kv-lower-to-tensor, " +
         (interleave ? "qt-interleave-weights{rows=" +
                           std::to_string(interleaveRows) + "}, "
                     : std::string()) +
         "kvant-bind-abi{entry=" + entry + " target=" + target + "}, " +
         (outline ? "qt-outline-matmuls, " : "") +
         (vectorizeMatmuls
              ? "qt-lower-matmul-to-vector{int8-activations=" +
                    std::string(int8Dot == "none" ? "false" : "true") +
                    " prefetch-distance=" + std::to_string(prefetchDistance) +
                    "}, "
              : std::string()) +
         "qt-lower-to-linalg, func.func(convert-elementwise-to-linalg), "
         "canonicalize, cse, " +
         // The outlined matmuls write into their callers' buffers: the
         // GEMV's result tensor becomes the destination argument, and the
         // returned buffer (that argument) is dropped from the signatures.
         (outline ? "eliminate-empty-tensors, " : "") +
         "one-shot-bufferize{bufferize-function-boundaries "
         "function-boundary-type-conversion=identity-layout-map}, " +
         (outline ? "drop-equivalent-buffer-results, " : "") +
         "buffer-deallocation-pipeline, kvant-memref-copy-to-linalg, ";
}

std::string kvant::getCPUPipeline(const std::string &entry, bool parallel,
                                  const std::string &int8Dot,
                                  int64_t interleaveRows,
                                  int64_t prefetchDistance,
                                  const std::string &schedule,
                                  bool outlineMatmuls) {
  // Kept as text so that each stage is a flag users can run, print and
  // replace with kvant-opt; the stages are:
  //   model level:  fuse dequantization, clean up
  //   loop level:   llm and qt ops to linalg, the KV cache to tensors, the
  //                 entry point to the artifact's ABI; matmuls by [N, K]
  //                 weights (quantized or float) to vector GEMV loops over
  //                 the weight rows, the rest to linalg
  //   buffers:      one-shot bufferization, deallocation (each buffer freed
  //                 after its last use)
  //   loops:        serial, or the parallel dimensions of every linalg op
  //                 and the GEMVs' row loops as OpenMP work-sharing loops
  //                 over the cores, those with little work (one token's
  //                 norm or residual add) on the calling thread
  //   LLVM:         the LLVM dialect (vector reductions may be reassociated:
  //                 they are tree sums of f32 partial sums)
  std::string pipeline = getModelToBuffersPipeline(
      entry, "cpu", /*vectorizeMatmuls=*/true, int8Dot, interleaveRows,
      prefetchDistance, outlineMatmuls);
  // Each intermediate freed after its last use, not at the end of the
  // forward, so that later layers reuse its memory.
  pipeline += "func.func(kvant-dealloc-after-last-use), ";
  // The int8 dot products and level lookups become the target's
  // instructions once buffers exist (the x86 forms are LLVM intrinsic calls).
  pipeline +=
      std::string("qt-lower-int8-ops{target=") +
      (int8Dot == "avx2" || int8Dot == "avx2-vnni" ? int8Dot : "generic") +
      "}, ";
  // Exponentials marked approximate (SiLU's) as vector polynomials rather
  // than one libm call per lane.
  pipeline += "kvant-approximate-exp, ";
  // Vector transfers become plain loads here (they are in bounds and
  // contiguous); f32 sums may be reassociated into trees.
  const std::string vectorToLLVM =
      "convert-vector-to-llvm{reassociate-fp-reductions=1}, ";
  if (parallel)
    // finalize-memref-to-llvm lowers the alloca scopes that scf-to-openmp
    // creates, so it runs while their bodies are still single blocks.
    pipeline += "scf-forall-to-parallel, "
                "func.func(convert-linalg-to-parallel-loops), "
                "kvant-parallel-threshold, convert-scf-to-openmp, "
                "kvant-omp-schedule{kind=" +
                schedule +
                "}, "
                "convert-vector-to-scf, "
                "expand-strided-metadata, lower-affine, " +
                vectorToLLVM + "finalize-memref-to-llvm, convert-scf-to-cf, ";
  else
    pipeline += "scf-forall-to-for, func.func(convert-linalg-to-loops), "
                "convert-vector-to-scf, convert-scf-to-cf, "
                "expand-strided-metadata, lower-affine, " +
                vectorToLLVM + "finalize-memref-to-llvm, ";
  pipeline += "convert-math-to-llvm, convert-math-to-libm, "
              "convert-arith-to-llvm, ";
  if (parallel)
    pipeline += "convert-openmp-to-llvm, ";
  pipeline += "convert-cf-to-llvm, convert-func-to-llvm, convert-ub-to-llvm, "
              "reconcile-unrealized-casts";
  return pipeline;
}

LogicalResult
kvant::buildCPUPipeline(OpPassManager &pm, const std::string &entry,
                        bool parallel, const std::string &int8Dot,
                        int64_t interleaveRows, int64_t prefetchDistance,
                        const std::string &schedule, bool outlineMatmuls) {
  std::string errors;
  llvm::raw_string_ostream errorStream(errors);
  if (failed(parsePassPipeline(getCPUPipeline(entry, parallel, int8Dot,
                                              interleaveRows, prefetchDistance,
                                              schedule, outlineMatmuls),
                               pm, errorStream))) {
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
        (void)buildCPUPipeline(pm, options.entry, options.parallel,
                               options.int8Dot, options.interleaveRows,
                               options.prefetchDistance, options.schedule,
                               options.outlineMatmuls);
      });
}
