// RUN: kvant-opt %s --kvant-memref-copy-to-linalg | FileCheck %s
// RUN: kvant-opt %s --kvant-memref-copy-to-linalg --convert-linalg-to-loops --convert-scf-to-cf --expand-strided-metadata --lower-affine --finalize-memref-to-llvm --convert-arith-to-llvm --convert-cf-to-llvm --convert-func-to-llvm --reconcile-unrealized-casts | FileCheck %s --check-prefix=LLVM

// A copy into a strided slab (as into the KV cache) becomes linalg.copy, so
// that lowering never calls MLIR's runtime `memrefCopy`.
// CHECK-LABEL: func.func @into_slab
// CHECK-SAME: (%[[SRC:.*]]: memref<?x4x32xf32>, %[[DST:.*]]: memref<?x4x32xf32, strided<[128, 32, 1], offset: ?>>)
// CHECK-NOT: memref.copy
// CHECK: linalg.copy ins(%[[SRC]] : memref<?x4x32xf32>) outs(%[[DST]] : memref<?x4x32xf32, strided<[128, 32, 1], offset: ?>>)
// LLVM-LABEL: llvm.func @into_slab
// LLVM-NOT: memrefCopy
func.func @into_slab(%src: memref<?x4x32xf32>, %dst: memref<?x4x32xf32, strided<[128, 32, 1], offset: ?>>) {
  memref.copy %src, %dst : memref<?x4x32xf32> to memref<?x4x32xf32, strided<[128, 32, 1], offset: ?>>
  return
}

// Contiguous copies take the same route.
// CHECK-LABEL: func.func @contiguous
// CHECK: linalg.copy ins(%{{.*}} : memref<8xf32>) outs(%{{.*}} : memref<8xf32>)
func.func @contiguous(%a: memref<8xf32>, %b: memref<8xf32>) {
  memref.copy %a, %b : memref<8xf32> to memref<8xf32>
  return
}
