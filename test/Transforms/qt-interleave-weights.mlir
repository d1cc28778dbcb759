// RUN: kvant-opt %s --qt-interleave-weights --split-input-file | FileCheck %s
// RUN: kvant-opt %s --qt-interleave-weights=rows=1 --split-input-file | FileCheck %s --check-prefix=FILE
// RUN: not kvant-opt %s --qt-interleave-weights=rows=0 --split-input-file 2>&1 | FileCheck %s --check-prefix=ZERO

// ZERO: error: qt-interleave-weights: rows must be at least 1, got 0

// Weights read only as matmul weights, in a format of 32-element blocks with
// one scale or tq2_0, and rows that 8 divides, get the interleaved layout;
// every op naming the weight changes together. The other super-block formats
// keep the file's (they decode slower interleaved).
// CHECK-LABEL: func.func @matmul_weights
// CHECK: qt.weight "up" : !qt.tensor<16x64, #qt.gguf<q4_0, interleave = 8>>
// CHECK: qt.weight "k" : !qt.tensor<8x256, #qt.gguf<q4_k>>
// CHECK: qt.weight "t" : !qt.tensor<8x256, #qt.gguf<tq2_0, interleave = 8>>
// CHECK: qt.weight "up" : !qt.tensor<16x64, #qt.gguf<q4_0, interleave = 8>>
// CHECK: qt.matmul %{{.*}}, %{{.*}} : tensor<1x64xf32>, !qt.tensor<16x64, #qt.gguf<q4_0, interleave = 8>> -> tensor<1x16xf32>
// FILE-LABEL: func.func @matmul_weights
// FILE-NOT: interleave
func.func @matmul_weights(%x: tensor<1x64xf32>, %y: tensor<1x256xf32>)
    -> (tensor<1x16xf32>, tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x16xf32>) {
  %w = qt.weight "up" : !qt.tensor<16x64, #qt.gguf<q4_0>>
  %k = qt.weight "k" : !qt.tensor<8x256, #qt.gguf<q4_k>>
  %t = qt.weight "t" : !qt.tensor<8x256, #qt.gguf<tq2_0>>
  %w2 = qt.weight "up" : !qt.tensor<16x64, #qt.gguf<q4_0>>
  %a = qt.matmul %x, %w : tensor<1x64xf32>, !qt.tensor<16x64, #qt.gguf<q4_0>> -> tensor<1x16xf32>
  %b = qt.matmul %y, %k : tensor<1x256xf32>, !qt.tensor<8x256, #qt.gguf<q4_k>> -> tensor<1x8xf32>
  %c = qt.matmul %y, %t : tensor<1x256xf32>, !qt.tensor<8x256, #qt.gguf<tq2_0>> -> tensor<1x8xf32>
  %d = qt.matmul %x, %w2 : tensor<1x64xf32>, !qt.tensor<16x64, #qt.gguf<q4_0>> -> tensor<1x16xf32>
  return %a, %b, %c, %d : tensor<1x16xf32>, tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x16xf32>
}

// -----

// The file's layout stays for: a weight that something else reads too (here
// a dequantization, for one of its two ops), formats with two scales per
// group (q6_k), rows that 8 does not divide, float weights.
// CHECK-LABEL: func.func @kept
// CHECK: qt.weight "shared" : !qt.tensor<16x64, #qt.gguf<q8_0>>
// CHECK: qt.weight "shared" : !qt.tensor<16x64, #qt.gguf<q8_0>>
// CHECK: qt.weight "q6" : !qt.tensor<8x256, #qt.gguf<q6_k>>
// CHECK: qt.weight "odd" : !qt.tensor<12x64, #qt.gguf<q8_0>>
// CHECK: qt.weight "f" : tensor<16x64xf32>
// CHECK-NOT: interleave
func.func @kept(%x: tensor<1x64xf32>, %y: tensor<1x256xf32>)
    -> (tensor<1x16xf32>, tensor<16x64xf32>, tensor<1x8xf32>, tensor<1x12xf32>, tensor<16x64xf32>) {
  %s = qt.weight "shared" : !qt.tensor<16x64, #qt.gguf<q8_0>>
  %s2 = qt.weight "shared" : !qt.tensor<16x64, #qt.gguf<q8_0>>
  %q6 = qt.weight "q6" : !qt.tensor<8x256, #qt.gguf<q6_k>>
  %o = qt.weight "odd" : !qt.tensor<12x64, #qt.gguf<q8_0>>
  %f = qt.weight "f" : tensor<16x64xf32>
  %a = qt.matmul %x, %s : tensor<1x64xf32>, !qt.tensor<16x64, #qt.gguf<q8_0>> -> tensor<1x16xf32>
  %b = qt.dequantize %s2 : !qt.tensor<16x64, #qt.gguf<q8_0>> -> tensor<16x64xf32>
  %c = qt.matmul %y, %q6 : tensor<1x256xf32>, !qt.tensor<8x256, #qt.gguf<q6_k>> -> tensor<1x8xf32>
  %d = qt.matmul %x, %o : tensor<1x64xf32>, !qt.tensor<12x64, #qt.gguf<q8_0>> -> tensor<1x12xf32>
  return %a, %b, %c, %d, %f : tensor<1x16xf32>, tensor<16x64xf32>, tensor<1x8xf32>, tensor<1x12xf32>, tensor<16x64xf32>
}

