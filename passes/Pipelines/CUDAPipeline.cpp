//===- CUDAPipeline.cpp - the model through gpu/NVVM to a CUDA binary -----===//

#include "kvant/CUDAPipeline.h"
#include "kvant/Pipelines.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace {
struct CUDAPipelineOptions : public PassPipelineOptions<CUDAPipelineOptions> {
  Option<std::string> entry{*this, "entry",
                            llvm::cl::desc("The model's entry function"),
                            llvm::cl::init("forward")};
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("GPU architecture (sm_90, sm_80)"),
                           llvm::cl::init("sm_90")};
  Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("CUDA toolkit (ptxas, fatbinary, libdevice)"),
      llvm::cl::init("/usr/local/cuda")};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("Embedded kernels: fatbin, bin (cubin) or isa (PTX)"),
      llvm::cl::init("fatbin")};
};
} // namespace

std::string kvant::getCUDATargetName(const CUDATarget &target) {
  return "cuda:" + target.chip;
}

std::string kvant::getCUDAPipeline(const std::string &entry,
                                   const CUDATarget &target) {
  // The model and loop levels are the CPU pipeline's, with the descriptor
  // naming the CUDA target; kernels come from plain linalg, not from the
  // CPU's vector GEMV loops.
  std::string pipeline = getModelToBuffersPipeline(
      entry, getCUDATargetName(target), /*vectorizeMatmuls=*/false);
  // Kernels: the parallel dimensions of every linalg op become the grid of
  // one launch (reductions stay serial loops inside the kernel); what has no
  // parallel dimension stays on the host, which reads the same managed
  // memory after each (synchronous) launch.
  pipeline += "func.func(convert-linalg-to-parallel-loops), "
              "func.func(gpu-map-parallel-loops), "
              "func.func(convert-parallel-loops-to-gpu), "
              "gpu-kernel-outlining, ";
  // exp/sqrt/sin/cos become libdevice calls (__nv_expf, ...), linked into
  // each kernel module before ptxas.
  pipeline += "nvvm-attach-target{chip=" + target.chip +
              " features=+ptx80 O=3 l=" + target.toolkit +
              "/nvvm/libdevice/libdevice.10.bc}, "
              "expand-strided-metadata, lower-affine, convert-scf-to-cf, "
              "gpu.module(convert-gpu-to-nvvm), "
              "gpu.module(reconcile-unrealized-casts), ";
  // Host: allocations go through _mlir_memref_to_llvm_alloc (managed memory
  // in kvant-run), launches through the mgpu* functions.
  pipeline += "finalize-memref-to-llvm{use-generic-functions=1}, "
              "convert-math-to-llvm, convert-math-to-libm, "
              "convert-arith-to-llvm, convert-index-to-llvm, "
              "convert-cf-to-llvm, convert-func-to-llvm, convert-ub-to-llvm, "
              "gpu-to-llvm, reconcile-unrealized-casts, "
              "gpu-module-to-binary{toolkit=" +
              target.toolkit + " format=" + target.format + "}";
  return pipeline;
}

LogicalResult kvant::buildCUDAPipeline(OpPassManager &pm,
                                       const std::string &entry,
                                       const CUDATarget &target) {
  std::string errors;
  llvm::raw_string_ostream errorStream(errors);
  if (failed(
          parsePassPipeline(getCUDAPipeline(entry, target), pm, errorStream))) {
    llvm::errs() << "kvant: cannot build the CUDA pipeline: " << errors << "\n";
    return failure();
  }
  return success();
}

void kvant::registerCUDAPipelines() {
  PassPipelineRegistration<CUDAPipelineOptions>(
      "kvant-cuda-pipeline",
      "Compile an imported model for NVIDIA GPUs: kernels through NVVM to a "
      "gpu.binary, host code in the LLVM dialect",
      [](OpPassManager &pm, const CUDAPipelineOptions &options) {
        kvant::CUDATarget target;
        target.chip = options.chip;
        target.toolkit = options.toolkit;
        target.format = options.format;
        (void)buildCUDAPipeline(pm, options.entry, target);
      });
}
