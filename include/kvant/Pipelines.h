//===- Pipelines.h - kvant's named pass pipelines ---------------*- C++ -*-===//

#ifndef KVANT_PIPELINES_H
#define KVANT_PIPELINES_H

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace kvant {
/// Model-level optimizations that every target shares: dequantizations are
/// folded into the matmuls that consume them, then the graph is cleaned up.
/// `kvant-opt --kvant-optimize-pipeline` runs the same passes.
void buildOptimizePipeline(mlir::OpPassManager &pm);

/// Registers the named pipelines with the global pass registry.
void registerPipelines();
} // namespace kvant

#endif // KVANT_PIPELINES_H
