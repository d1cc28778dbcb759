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

// -----

!q8 = !qt.tensor<128x64, #qt.gguf<q8_0>>
!q4 = !qt.tensor<64x128, #qt.gguf<q4_0>>

// llm ops take the quantized weights themselves; a bias-free llm.linear
// becomes qt.matmul.
// CHECK-LABEL: func.func @llm_ops
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>, %[[T:.*]]: tensor<?xi32>, %[[B:.*]]: tensor<128xf32>)
func.func @llm_ops(%x: tensor<?x64xf32>, %tok: tensor<?xi32>, %b: tensor<128xf32>)
    -> (tensor<?x128xf32>, tensor<?x128xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x128xf32>) {
  // CHECK-DAG: %[[WQ8:.*]] = qt.weight "q8"
  // CHECK-DAG: %[[WQ4:.*]] = qt.weight "q4"
  // CHECK-NOT: qt.dequantize
  %wq8 = qt.weight "q8" : !q8
  %wq4 = qt.weight "q4" : !q4
  %d8 = qt.dequantize %wq8 : !q8 -> tensor<128x64xf32>
  %d4 = qt.dequantize %wq4 : !q4 -> tensor<64x128xf32>
  // CHECK: %[[L0:.*]] = qt.matmul %[[X]], %[[WQ8]] : tensor<?x64xf32>, !qt.tensor<128x64, #qt.gguf<q8_0>> -> tensor<?x128xf32>
  %l0 = llm.linear %x, %d8 : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  // CHECK: %[[L1:.*]] = llm.linear %[[X]], %[[WQ8]], %[[B]] : tensor<?x64xf32>, !qt.tensor<128x64, #qt.gguf<q8_0>>, tensor<128xf32> -> tensor<?x128xf32>
  %l1 = llm.linear %x, %d8, %b : tensor<?x64xf32>, tensor<128x64xf32>, tensor<128xf32> -> tensor<?x128xf32>
  // CHECK: %[[M:.*]] = llm.mlp swiglu %[[X]] gate(%[[WQ8]] : !qt.tensor<128x64, #qt.gguf<q8_0>>) up(%[[WQ8]] : !qt.tensor<128x64, #qt.gguf<q8_0>>) down(%[[WQ4]] : !qt.tensor<64x128, #qt.gguf<q4_0>>)
  %m = llm.mlp swiglu %x gate(%d8 : tensor<128x64xf32>) up(%d8 : tensor<128x64xf32>) down(%d4 : tensor<64x128xf32>) : tensor<?x64xf32>
  // CHECK: %[[E:.*]] = llm.embedding %[[WQ8]], %[[T]] : !qt.tensor<128x64, #qt.gguf<q8_0>>, tensor<?xi32> -> tensor<?x64xf32>
  %e = llm.embedding %d8, %tok : tensor<128x64xf32>, tensor<?xi32> -> tensor<?x64xf32>
  // CHECK: %[[G:.*]] = llm.logits %[[X]], %[[WQ8]] : tensor<?x64xf32>, !qt.tensor<128x64, #qt.gguf<q8_0>> -> tensor<?x128xf32>
  %g = llm.logits %x, %d8 : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  // CHECK: return %[[L0]], %[[L1]], %[[M]], %[[E]], %[[G]]
  return %l0, %l1, %m, %e, %g : tensor<?x128xf32>, tensor<?x128xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x128xf32>
}

// -----

// A dequantization that also feeds something else stays for that user.
// CHECK-LABEL: func.func @shared_dequant
func.func @shared_dequant(%x: tensor<4x64xf32>) -> (tensor<4x128xf32>, tensor<128x64xf32>) {
  // CHECK: %[[W:.*]] = qt.weight "w"
  // CHECK: %[[D:.*]] = qt.dequantize %[[W]]
  // CHECK: qt.matmul %{{.*}}, %[[W]]
  // CHECK: return %{{.*}}, %[[D]]
  %w = qt.weight "w" : !qt.tensor<128x64, #qt.gguf<q8_0>>
  %d = qt.dequantize %w : !qt.tensor<128x64, #qt.gguf<q8_0>> -> tensor<128x64xf32>
  %y = llm.linear %x, %d : tensor<4x64xf32>, tensor<128x64xf32> -> tensor<4x128xf32>
  return %y, %d : tensor<4x128xf32>, tensor<128x64xf32>
}
