// The kernels through ptxas and fatbinary into a gpu.binary that the
// artifact embeds (kvant-cuda-pipeline's last step), with the math functions
// taken from the toolkit's libdevice.
// REQUIRES: ptxas

// RUN: kvant-opt %s --pass-pipeline="builtin.module(func.func(convert-linalg-to-parallel-loops),func.func(gpu-map-parallel-loops),func.func(convert-parallel-loops-to-gpu),gpu-kernel-outlining,nvvm-attach-target{chip=sm_90 features=+ptx80 O=3 l=/usr/local/cuda/nvvm/libdevice/libdevice.10.bc},expand-strided-metadata,lower-affine,convert-scf-to-cf,gpu.module(convert-gpu-to-nvvm),gpu.module(reconcile-unrealized-casts),finalize-memref-to-llvm{use-generic-functions=1},convert-arith-to-llvm,convert-func-to-llvm,gpu-to-llvm,reconcile-unrealized-casts,gpu-module-to-binary{toolkit=/usr/local/cuda format=fatbin})" | FileCheck %s

// A fatbin starts with the magic 0xBA55ED50 (little endian).
// CHECK-LABEL: llvm.func @exp_rows
// CHECK: gpu.launch_func @exp_rows_kernel::@exp_rows_kernel
// CHECK: gpu.binary @exp_rows_kernel [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80", link = [{{.*}}libdevice.10.bc"]>, {{.*}}"P\EDU\BA
// CHECK-NOT: gpu.module

func.func @exp_rows(%in: memref<?x64xf32>, %out: memref<?x64xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>,
                                   affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%in : memref<?x64xf32>) outs(%out : memref<?x64xf32>) {
  ^bb0(%a: f32, %b: f32):
    %e = math.exp %a : f32
    linalg.yield %e : f32
  }
  return
}
