// RUN: kvant-opt %s --canonicalize --cse --one-shot-bufferize="bufferize-function-boundaries" | FileCheck %s

// qt.prefetch has no results but is not dead code (canonicalize keeps it),
// and bufferizes to a read prefetch of the tensor's buffer at the same
// indices, into every cache level.
// CHECK-LABEL: func.func @prefetch
// CHECK-SAME: (%[[B:.*]]: memref<8x2x34xi8{{.*}}>, %[[I:.*]]: index)
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: memref.prefetch %[[B]][%[[I]], %[[C0]], %[[C0]]], read, locality<3>, data
// CHECK-NOT: qt.prefetch
func.func @prefetch(%b: tensor<8x2x34xi8>, %i: index) {
  %c0 = arith.constant 0 : index
  qt.prefetch %b[%i, %c0, %c0] : tensor<8x2x34xi8>
  return
}

// The prefetch reads the tensor only: a write after it needs no copy of the
// source (the function's argument is written in place).
// CHECK-LABEL: func.func @prefetch_then_write
// CHECK-SAME: (%[[W:.*]]: memref<4xi8{{.*}}>, %[[K:.*]]: index, %[[V:.*]]: i8)
// CHECK-NOT: memref.alloc
// CHECK: memref.prefetch %[[W]][%[[K]]], read, locality<3>, data
// CHECK: memref.store %[[V]], %[[W]][%[[K]]]
func.func @prefetch_then_write(%w: tensor<4xi8>, %k: index, %v: i8) -> tensor<4xi8> {
  qt.prefetch %w[%k] : tensor<4xi8>
  %r = tensor.insert %v into %w[%k] : tensor<4xi8>
  return %r : tensor<4xi8>
}
