// The CUDA pipeline's GPU stages (kvant-cuda-pipeline after bufferization),
// run step by step on buffers as bufferization leaves them: each parallel
// loop becomes a kernel launch, kernels go to NVVM, the host to the LLVM
// dialect with kvant-run's managed allocator, and ptxas makes a fatbin
// (cuda-module-to-binary.mlir).

// RUN: kvant-opt %s --pass-pipeline="builtin.module(func.func(convert-linalg-to-parallel-loops),func.func(gpu-map-parallel-loops),func.func(convert-parallel-loops-to-gpu),gpu-kernel-outlining)" | FileCheck %s --check-prefix=OUTLINE

// RUN: kvant-opt %s --pass-pipeline="builtin.module(func.func(convert-linalg-to-parallel-loops),func.func(gpu-map-parallel-loops),func.func(convert-parallel-loops-to-gpu),gpu-kernel-outlining,nvvm-attach-target{chip=sm_90 features=+ptx80 O=3},expand-strided-metadata,lower-affine,convert-scf-to-cf,gpu.module(convert-gpu-to-nvvm),gpu.module(reconcile-unrealized-casts))" | FileCheck %s --check-prefix=NVVM

// RUN: kvant-opt %s --pass-pipeline="builtin.module(func.func(convert-linalg-to-parallel-loops),func.func(gpu-map-parallel-loops),func.func(convert-parallel-loops-to-gpu),gpu-kernel-outlining,nvvm-attach-target{chip=sm_90 features=+ptx80 O=3},expand-strided-metadata,lower-affine,convert-scf-to-cf,gpu.module(convert-gpu-to-nvvm),gpu.module(reconcile-unrealized-casts),finalize-memref-to-llvm{use-generic-functions=1},convert-math-to-llvm,convert-math-to-libm,convert-arith-to-llvm,convert-index-to-llvm,convert-cf-to-llvm,convert-func-to-llvm,convert-ub-to-llvm,gpu-to-llvm,reconcile-unrealized-casts)" | FileCheck %s --check-prefix=HOST

// Both parallel dimensions index the grid (one block per element, a correct
// baseline); the exp stays a math op until NVVM.
// OUTLINE-LABEL: func.func @exp_rows
// OUTLINE: %[[ROWS:.*]] = memref.dim
// OUTLINE: gpu.launch_func @exp_rows_kernel::@exp_rows_kernel blocks in (%{{.*}}, %{{.*}}, %[[ONE:.*]]) threads in (%[[ONE]], %[[ONE]], %[[ONE]])
// OUTLINE-SAME: args({{.*}}%{{.*}} : memref<?x64xf32>, %{{.*}} : memref<?x64xf32>)
// OUTLINE: gpu.module @exp_rows_kernel
// OUTLINE: gpu.func @exp_rows_kernel({{.*}}) kernel
// OUTLINE-DAG: gpu.block_id x
// OUTLINE-DAG: gpu.block_id y
// OUTLINE: math.exp
// OUTLINE: gpu.return

// The matvec's rows are the grid; its reduction stays a loop in the kernel.
// The temporary buffer is allocated on the host and passed to the kernels.
// OUTLINE-LABEL: func.func @matvec_tmp
// OUTLINE: %[[TMP:.*]] = memref.alloc
// OUTLINE: gpu.launch_func @matvec_tmp_kernel::@matvec_tmp_kernel {{.*}}args({{.*}}%[[TMP]] : memref<?xf32>)
// OUTLINE: gpu.launch_func @matvec_tmp_kernel_0::@matvec_tmp_kernel
// OUTLINE: gpu.launch_func @matvec_tmp_kernel_1::@matvec_tmp_kernel
// OUTLINE: memref.dealloc %[[TMP]]
// OUTLINE: gpu.module @matvec_tmp_kernel_0
// OUTLINE: scf.for
// OUTLINE: arith.mulf
// OUTLINE: arith.addf

// NVVM-LABEL: func.func @exp_rows
// NVVM: gpu.launch_func @exp_rows_kernel::@exp_rows_kernel
// NVVM: gpu.module @exp_rows_kernel [#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">]
// NVVM: llvm.func @__nv_expf(f32) -> f32
// NVVM: llvm.func @exp_rows_kernel({{.*}}) attributes {gpu.kernel, {{.*}}nvvm.kernel
// NVVM: nvvm.read.ptx.sreg.ctaid.x
// NVVM: nvvm.read.ptx.sreg.ctaid.y
// NVVM: llvm.call @__nv_expf
// NVVM-NOT: math.exp

// HOST: llvm.func @_mlir_memref_to_llvm_free(!llvm.ptr)
// HOST: llvm.func @_mlir_memref_to_llvm_alloc(i64) -> !llvm.ptr
// HOST-LABEL: llvm.func @exp_rows
// HOST: gpu.launch_func @exp_rows_kernel::@exp_rows_kernel {{.*}} : i64 args(
// HOST-LABEL: llvm.func @matvec_tmp
// HOST: %[[TMP:.*]] = llvm.call @_mlir_memref_to_llvm_alloc
// HOST: gpu.launch_func @matvec_tmp_kernel::@matvec_tmp_kernel
// HOST: llvm.call @_mlir_memref_to_llvm_free(%[[TMP]])
// HOST-NOT: func.func
// HOST-NOT: memref.

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

func.func @matvec_tmp(%a: memref<?x64xf32>, %x: memref<64xf32>,
                      %y: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %a, %c0 : memref<?x64xf32>
  %tmp = memref.alloc(%n) : memref<?xf32>
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%tmp : memref<?xf32>)
  linalg.matvec ins(%a, %x : memref<?x64xf32>, memref<64xf32>)
                outs(%tmp : memref<?xf32>)
  linalg.copy ins(%tmp : memref<?xf32>) outs(%y : memref<?xf32>)
  memref.dealloc %tmp : memref<?xf32>
  return
}
