//===- CUDAPipeline.h - the model through gpu/NVVM to a CUDA binary -*- C++
//-*-===//

#ifndef KVANT_CUDAPIPELINE_H
#define KVANT_CUDAPIPELINE_H

#include "mlir/Support/LLVM.h"

#include <string>

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace kvant {
/// What the CUDA pipeline generates code for.
struct CUDATarget {
  /// The GPU's architecture (`sm_90`, `sm_80`, ...).
  std::string chip = "sm_90";
  /// The CUDA toolkit whose ptxas/fatbinary assemble the kernels and whose
  /// libdevice provides the math functions.
  std::string toolkit = "/usr/local/cuda";
  /// What gpu-module-to-binary embeds: `fatbin`, `bin` (cubin) or `isa`
  /// (PTX, JIT-compiled by the driver; needs no ptxas).
  std::string format = "fatbin";
};

/// The whole CUDA compilation, from the imported model to the LLVM dialect
/// with the kernels embedded as a `gpu.binary`, as the textual list of passes
/// of a module pass manager. The prefix up to bufferization is the CPU
/// pipeline's; then every parallel loop becomes a kernel (one GPU block per
/// iteration, a correct baseline, not a fast one), the kernels go to NVVM
/// and through ptxas, and the host code calls the `mgpu*` functions and
/// `_mlir_memref_to_llvm_alloc/free` that kvant-run implements with the CUDA
/// driver (all buffers in managed memory).
std::string getCUDAPipeline(const std::string &entry = "forward",
                            const CUDATarget &target = {});

/// The artifact descriptor's target string, `cuda:<chip>`.
std::string getCUDATargetName(const CUDATarget &target);

/// Adds getCUDAPipeline() to `pm` (a module pass manager).
mlir::LogicalResult buildCUDAPipeline(mlir::OpPassManager &pm,
                                      const std::string &entry = "forward",
                                      const CUDATarget &target = {});

/// Registers `kvant-cuda-pipeline` with the global pass registry.
void registerCUDAPipelines();
} // namespace kvant

#endif // KVANT_CUDAPIPELINE_H
