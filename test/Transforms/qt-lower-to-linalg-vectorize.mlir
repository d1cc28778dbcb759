// RUN: kvant-opt %s --qt-lower-to-linalg --transform-interpreter | FileCheck %s

// The lowered matmul's indexing maps are projected permutations, so the
// upstream linalg vectorizer accepts it as is: the block decode becomes
// vector code and the reduction over (b, j) one vector.multi_reduction.

// CHECK-LABEL: func.func @matmul_q5_0
func.func @matmul_q5_0(%x: tensor<1x64xf32>, %b: tensor<8x44xi8>) -> tensor<1x8xf32> {
  // CHECK-NOT: linalg.generic
  // CHECK: arith.bitcast %{{.*}} : vector<1x8x2x2x2x8xi16> to vector<1x8x2x2x2x8xf16>
  // CHECK: %[[R:.*]] = vector.multi_reduction <add>, %{{.*}}, %{{.*}} [2, 3, 4, 5] : vector<1x8x2x2x2x8xf32> to vector<1x8xf32>
  // CHECK: vector.transfer_write %[[R]]
  %w = qt.from_bytes %b : tensor<8x44xi8> -> !qt.tensor<8x64, #qt.gguf<q5_0>>
  %y = qt.matmul %x, %w : tensor<1x64xf32>, !qt.tensor<8x64, #qt.gguf<q5_0>> -> tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %g = transform.structured.match ops{["linalg.generic"]} in %root : (!transform.any_op) -> !transform.any_op
    transform.structured.vectorize %g : !transform.any_op
    transform.yield
  }
}
