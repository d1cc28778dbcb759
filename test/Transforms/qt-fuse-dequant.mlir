// RUN: kvant-opt %s --qt-fuse-dequant --split-input-file | FileCheck %s

!w = !qt.tensor<128x64, #qt.gguf<q8_0>>

// A matmul reading the dequantized weight transposed through its indexing
// maps, into a zero-filled accumulator, becomes one qt.matmul.
// CHECK-LABEL: func.func @transposed_map
// CHECK-SAME: (%[[X:.*]]: tensor<4x64xf32>)
func.func @transposed_map(%x: tensor<4x64xf32>) -> tensor<4x128xf32> {
  // CHECK: %[[W:.*]] = qt.weight "w"
  // CHECK-NOT: qt.dequantize
  // CHECK-NOT: linalg.matmul
  // CHECK: %[[Y:.*]] = qt.matmul %[[X]], %[[W]] : tensor<4x64xf32>, !qt.tensor<128x64, #qt.gguf<q8_0>> -> tensor<4x128xf32>
  // CHECK: return %[[Y]]
  %w = qt.weight "w" : !w
  %d = qt.dequantize %w : !w -> tensor<128x64xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x128xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<4x128xf32>) -> tensor<4x128xf32>
  %y = linalg.matmul
      indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                       affine_map<(m, n, k) -> (n, k)>,
                       affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %d : tensor<4x64xf32>, tensor<128x64xf32>)
      outs(%acc : tensor<4x128xf32>) -> tensor<4x128xf32>
  return %y : tensor<4x128xf32>
}

// -----

!w = !qt.tensor<128x64, #qt.gguf<q4_0>>

// An explicit linalg.transpose of the dequantized weight, accumulating into
// a live tensor: the accumulator is added after the quantized matmul.
// CHECK-LABEL: func.func @explicit_transpose_accumulate
// CHECK-SAME: (%[[X:.*]]: tensor<4x64xf32>, %[[ACC:.*]]: tensor<4x128xf32>)
func.func @explicit_transpose_accumulate(%x: tensor<4x64xf32>, %acc: tensor<4x128xf32>) -> tensor<4x128xf32> {
  // CHECK: %[[W:.*]] = qt.weight "w"
  // CHECK-NOT: qt.dequantize
  // CHECK-NOT: linalg.transpose
  // CHECK: %[[P:.*]] = qt.matmul %[[X]], %[[W]]
  // CHECK: %[[S:.*]] = arith.addf %[[ACC]], %[[P]] : tensor<4x128xf32>
  // CHECK: return %[[S]]
  %w = qt.weight "w" : !w
  %d = qt.dequantize %w : !w -> tensor<128x64xf32>
  %e = tensor.empty() : tensor<64x128xf32>
  %t = linalg.transpose ins(%d : tensor<128x64xf32>) outs(%e : tensor<64x128xf32>) permutation = [1, 0]
  %y = linalg.matmul ins(%x, %t : tensor<4x64xf32>, tensor<64x128xf32>)
                     outs(%acc : tensor<4x128xf32>) -> tensor<4x128xf32>
  return %y : tensor<4x128xf32>
}

// -----

// A matmul that reads the dequantized tensor untransposed uses it as a
// K x N matrix, which is not a weight in qt's N x K convention: kept.
// CHECK-LABEL: func.func @untransposed_kept
func.func @untransposed_kept(%x: tensor<4x64xf32>, %acc: tensor<4x64xf32>) -> tensor<4x64xf32> {
  // CHECK: qt.dequantize
  // CHECK: linalg.matmul
  // CHECK-NOT: qt.matmul
  %w = qt.weight "w" : !qt.tensor<64x64, #qt.gguf<q8_0>>
  %d = qt.dequantize %w : !qt.tensor<64x64, #qt.gguf<q8_0>> -> tensor<64x64xf32>
  %y = linalg.matmul ins(%x, %d : tensor<4x64xf32>, tensor<64x64xf32>)
                     outs(%acc : tensor<4x64xf32>) -> tensor<4x64xf32>
  return %y : tensor<4x64xf32>
}

// -----

// Mixed precision (f16 activations into an f32 accumulator) is left alone.
// CHECK-LABEL: func.func @mixed_types_kept
func.func @mixed_types_kept(%x: tensor<4x64xf16>, %acc: tensor<4x128xf32>) -> tensor<4x128xf32> {
  // CHECK: linalg.matmul
  // CHECK-NOT: qt.matmul
  %w = qt.weight "w" : !qt.tensor<128x64, #qt.gguf<q8_0>>
  %d = qt.dequantize %w : !qt.tensor<128x64, #qt.gguf<q8_0>> -> tensor<128x64xf16>
  %y = linalg.matmul
      indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                       affine_map<(m, n, k) -> (n, k)>,
                       affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %d : tensor<4x64xf16>, tensor<128x64xf16>)
      outs(%acc : tensor<4x128xf32>) -> tensor<4x128xf32>
  return %y : tensor<4x128xf32>
}
