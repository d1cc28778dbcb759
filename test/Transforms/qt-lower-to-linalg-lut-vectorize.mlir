// RUN: kvant-opt %s --qt-lower-to-linalg --transform-interpreter | FileCheck %s

// The lookup-table and ternary formats keep every indexing map a projected
// permutation and decode with plain integer arith (the tables are i64
// constants, TQ1_0's digit index comes from linalg.index), so the upstream
// linalg vectorizer accepts their matmuls as is: the table lookup becomes
// per-lane shifts and the reduction one vector.multi_reduction.

// CHECK-LABEL: func.func @matmul_iq4_nl
func.func @matmul_iq4_nl(%x: tensor<1x64xf32>, %b: tensor<8x36xi8>) -> tensor<1x8xf32> {
  // CHECK-NOT: linalg.generic
  // CHECK: %[[WORD:.*]] = arith.select %{{.*}}, %{{.*}}, %{{.*}} : vector<1x8x2x2x16xi1>, vector<1x8x2x2x16xi64>
  // CHECK: arith.shrui %[[WORD]], %{{.*}} : vector<1x8x2x2x16xi64>
  // CHECK: %[[R:.*]] = vector.multi_reduction <add>, %{{.*}}, %{{.*}} [2, 3, 4] : vector<1x8x2x2x16xf32> to vector<1x8xf32>
  // CHECK: vector.transfer_write %[[R]]
  %w = qt.from_bytes %b : tensor<8x36xi8> -> !qt.tensor<8x64, #qt.gguf<iq4_nl>>
  %y = qt.matmul %x, %w : tensor<1x64xf32>, !qt.tensor<8x64, #qt.gguf<iq4_nl>> -> tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}

// CHECK-LABEL: func.func @matmul_mxfp4
func.func @matmul_mxfp4(%x: tensor<1x64xf32>, %b: tensor<8x34xi8>) -> tensor<1x8xf32> {
  // CHECK-NOT: linalg.generic
  // CHECK: arith.bitcast %{{.*}} : vector<1x8x2x2x16xi32> to vector<1x8x2x2x16xf32>
  // CHECK: vector.multi_reduction <add>, %{{.*}}, %{{.*}} [2, 3, 4] : vector<1x8x2x2x16xf32> to vector<1x8xf32>
  %w = qt.from_bytes %b : tensor<8x34xi8> -> !qt.tensor<8x64, #qt.gguf<mxfp4>>
  %y = qt.matmul %x, %w : tensor<1x64xf32>, !qt.tensor<8x64, #qt.gguf<mxfp4>> -> tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}

// CHECK-LABEL: func.func @matmul_tq1_0
func.func @matmul_tq1_0(%x: tensor<1x256xf32>, %b: tensor<4x54xi8>) -> tensor<1x4xf32> {
  // CHECK-NOT: linalg.generic
  // CHECK: vector.step : vector<8xindex>
  // CHECK: arith.select %{{.*}}, %{{.*}}, %{{.*}} : vector<1x4x1x8x2x4x4xi1>, vector<1x4x1x8x2x4x4xi32>
  // CHECK: vector.multi_reduction <add>, %{{.*}}, %{{.*}} [2, 3, 4, 5, 6] : vector<1x4x1x8x2x4x4xf32> to vector<1x4xf32>
  %w = qt.from_bytes %b : tensor<4x54xi8> -> !qt.tensor<4x256, #qt.gguf<tq1_0>>
  %y = qt.matmul %x, %w : tensor<1x256xf32>, !qt.tensor<4x256, #qt.gguf<tq1_0>> -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// CHECK-LABEL: func.func @matmul_tq2_0
func.func @matmul_tq2_0(%x: tensor<1x256xf32>, %b: tensor<4x66xi8>) -> tensor<1x4xf32> {
  // CHECK-NOT: linalg.generic
  // CHECK: vector.multi_reduction <add>, %{{.*}}, %{{.*}} [2, 3, 4, 5] : vector<1x4x1x2x4x32xf32> to vector<1x4xf32>
  %w = qt.from_bytes %b : tensor<4x66xi8> -> !qt.tensor<4x256, #qt.gguf<tq2_0>>
  %y = qt.matmul %x, %w : tensor<1x256xf32>, !qt.tensor<4x256, #qt.gguf<tq2_0>> -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %g = transform.structured.match ops{["linalg.generic"]} in %root : (!transform.any_op) -> !transform.any_op
    transform.structured.vectorize %g : !transform.any_op
    transform.yield
  }
}
