// RUN: kvant-opt %s --qt-outline-matmuls --split-input-file | FileCheck %s

// Matmuls of one signature call one function; another weight shape gets its
// own. The weight's bytes are the second argument, the destination (a
// tensor.empty of the result's shape) the third.
// CHECK-LABEL: func.func @layers
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>)
// CHECK: %[[W0:.*]] = qt.weight "w0"
// CHECK: %[[W1:.*]] = qt.weight "w1"
// CHECK: %[[W2:.*]] = qt.weight "w2"
// CHECK: %[[B0:.*]] = qt.to_bytes %[[W0]] : !qt.tensor<32x64, #qt.gguf<q4_0, interleave = 8>> -> tensor<32x36xi8>
// CHECK: %[[M:.*]] = tensor.dim %[[X]], %c0
// CHECK: %[[E0:.*]] = tensor.empty(%[[M]]) : tensor<?x32xf32>
// CHECK: %[[Y0:.*]] = call @qt_matmul_q4_0_i8_32x64(%[[X]], %[[B0]], %[[E0]]) : (tensor<?x64xf32>, tensor<32x36xi8>, tensor<?x32xf32>) -> tensor<?x32xf32>
// CHECK: %[[B1:.*]] = qt.to_bytes %[[W1]]
// CHECK: call @qt_matmul_q4_0_i8_32x64(%[[X]], %[[B1]], %{{.*}})
// CHECK: %[[B2:.*]] = qt.to_bytes %[[W2]] : !qt.tensor<16x64, #qt.gguf<q8_0>> -> tensor<16x68xi8>
// CHECK: call @qt_matmul_q8_0_16x64(%[[X]], %[[B2]], %{{.*}})
// CHECK-NOT: qt.matmul
// CHECK: return
// CHECK: func.func private @qt_matmul_q4_0_i8_32x64(%[[A:.*]]: tensor<?x64xf32>, %[[AB:.*]]: tensor<32x36xi8>, %[[AI:.*]]: tensor<?x32xf32>) -> tensor<?x32xf32>
// CHECK-SAME: llvm.linkage = #llvm.linkage<internal>
// CHECK: %[[AW:.*]] = qt.from_bytes %[[AB]] : tensor<32x36xi8> -> !qt.tensor<32x64, #qt.gguf<q4_0, interleave = 8>>
// CHECK: %[[AY:.*]] = qt.matmul %[[A]], %[[AW]]
// CHECK: %[[AR:.*]] = bufferization.materialize_in_destination %[[AY]] in %[[AI]]
// CHECK: return %[[AR]]
// CHECK: func.func private @qt_matmul_q8_0_16x64
// CHECK-NOT: func.func
func.func @layers(%x: tensor<?x64xf32>) -> (tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x16xf32>) {
  %w0 = qt.weight "w0" : !qt.tensor<32x64, #qt.gguf<q4_0, interleave = 8>>
  %w1 = qt.weight "w1" : !qt.tensor<32x64, #qt.gguf<q4_0, interleave = 8>>
  %w2 = qt.weight "w2" : !qt.tensor<16x64, #qt.gguf<q8_0>>
  %y0 = qt.matmul %x, %w0 : tensor<?x64xf32>, !qt.tensor<32x64, #qt.gguf<q4_0, interleave = 8>> -> tensor<?x32xf32>
  %y1 = qt.matmul %x, %w1 : tensor<?x64xf32>, !qt.tensor<32x64, #qt.gguf<q4_0, interleave = 8>> -> tensor<?x32xf32>
  %y2 = qt.matmul %x, %w2 : tensor<?x64xf32>, !qt.tensor<16x64, #qt.gguf<q8_0>> -> tensor<?x16xf32>
  return %y0, %y1, %y2 : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x16xf32>
}

// -----

// Another activation type is another signature; a name already taken gets
// a suffix.
// CHECK-LABEL: func.func @qt_matmul_q8_0_16x64
// CHECK-LABEL: func.func @rows
// CHECK: call @[[DYN:qt_matmul_[a-z0-9_]+]](%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<?x64xf32>, tensor<16x68xi8>, tensor<?x16xf32>)
// CHECK: %[[E1:.*]] = tensor.empty() : tensor<1x16xf32>
// CHECK: call @[[ONE:qt_matmul_[a-z0-9_]+]](%{{.*}}, %{{.*}}, %[[E1]]) : (tensor<1x64xf32>, tensor<16x68xi8>, tensor<1x16xf32>)
// CHECK: func.func private @[[DYN]](
// CHECK: func.func private @[[ONE]](
func.func @qt_matmul_q8_0_16x64() {
  return
}
func.func @rows(%x: tensor<?x64xf32>, %x1: tensor<1x64xf32>) -> (tensor<?x16xf32>, tensor<1x16xf32>) {
  %w = qt.weight "w" : !qt.tensor<16x64, #qt.gguf<q8_0>>
  %y = qt.matmul %x, %w : tensor<?x64xf32>, !qt.tensor<16x64, #qt.gguf<q8_0>> -> tensor<?x16xf32>
  %y1 = qt.matmul %x1, %w : tensor<1x64xf32>, !qt.tensor<16x64, #qt.gguf<q8_0>> -> tensor<1x16xf32>
  return %y, %y1 : tensor<?x16xf32>, tensor<1x16xf32>
}

// -----

// Weights that are not a static matrix of a block format stay in place.
// CHECK-LABEL: func.func @kept
// CHECK: qt.matmul
// CHECK-NOT: call
func.func @kept(%x: tensor<1x64xf32>, %w: !qt.tensor<?x64, #qt.gguf<q8_0>>) -> tensor<1x?xf32> {
  %y = qt.matmul %x, %w : tensor<1x64xf32>, !qt.tensor<?x64, #qt.gguf<q8_0>> -> tensor<1x?xf32>
  return %y : tensor<1x?xf32>
}
