//===- Pipelines.h - kvant's named pass pipelines ---------------*- C++ -*-===//

#ifndef KVANT_PIPELINES_H
#define KVANT_PIPELINES_H

#include "mlir/Support/LLVM.h"

#include <string>

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace kvant {
/// Model-level optimizations that every target shares: dequantizations are
/// folded into the matmuls that consume them, then the graph is cleaned up.
/// `kvant-opt --kvant-optimize-pipeline` runs the same passes.
void buildOptimizePipeline(mlir::OpPassManager &pm);

/// The stages every target shares, as a textual list of passes ending with a
/// comma: model-level cleanup, llm/qt/kv to linalg on tensors, the entry
/// point bound to the artifact's ABI (its descriptor naming `target`), and
/// bufferization. `vectorizeMatmuls` adds the CPU's vector GEMV lowering,
/// with `int8Dot` its int8-dot option (none, generic, avx2 or avx2-vnni); with
/// int8 dot products, `interleaveRows` > 1 gives the matmul weights that
/// compute layout (qt-interleave-weights), which the artifact repacks at load.
/// `prefetchDistance` is the vector GEMV's prefetch-distance (bytes ahead in
/// the weights that decode prefetches; 0: none). `outlineMatmuls` lowers
/// each distinct block-format matmul once, in a function that every layer
/// calls (qt-outline-matmuls).
std::string getModelToBuffersPipeline(
    const std::string &entry, const std::string &target, bool vectorizeMatmuls,
    const std::string &int8Dot = "none", int64_t interleaveRows = 1,
    int64_t prefetchDistance = 0, bool outlineMatmuls = false);

/// The default prefetch distance of the CPU pipeline, in bytes (measured on
/// Zen 3, 2 threads: GEMVs from DRAM 7-25 % faster than without; 2048 to
/// 8192 bytes within noise of each other).
constexpr int64_t kDefaultPrefetchDistance = 4096;

/// The whole CPU compilation, from the imported model to the LLVM dialect,
/// as the textual list of passes of a module pass manager
/// (`kvant-opt --pass-pipeline='builtin.module(...)'` runs it, or any prefix
/// of it, step by step). `entry` is the model function. With `parallel`, the
/// parallel loops of every op run on OpenMP threads (the artifact links the
/// thread team of lib/Artifact/ThreadTeam.c), their work-sharing loops with
/// `schedule` (dynamic or static: kvant-omp-schedule). `int8Dot` (none,
/// generic, avx2, avx2-vnni) quantizes the activations of block-format matmuls
/// to int8 and uses integer dot products; with those, `interleaveRows` (8, or 1
/// for the file's layout) is the rows whose blocks matmul weights store
/// together. `prefetchDistance` is how many bytes ahead in the weights decode's
/// GEMVs prefetch (0: none). `outlineMatmuls`: one function per distinct
/// block-format matmul (qt-outline-matmuls; compiles several times faster,
/// prefills slower: see the pass).
std::string getCPUPipeline(const std::string &entry = "forward",
                           bool parallel = false,
                           const std::string &int8Dot = "none",
                           int64_t interleaveRows = 8,
                           int64_t prefetchDistance = kDefaultPrefetchDistance,
                           const std::string &schedule = "dynamic",
                           bool outlineMatmuls = false);

/// Adds getCPUPipeline() to `pm` (a module pass manager).
mlir::LogicalResult
buildCPUPipeline(mlir::OpPassManager &pm, const std::string &entry = "forward",
                 bool parallel = false, const std::string &int8Dot = "none",
                 int64_t interleaveRows = 8,
                 int64_t prefetchDistance = kDefaultPrefetchDistance,
                 const std::string &schedule = "dynamic",
                 bool outlineMatmuls = false);

/// Registers the named pipelines with the global pass registry.
void registerPipelines();
} // namespace kvant

#endif // KVANT_PIPELINES_H
