// RUN: kvant-opt %s | kvant-opt | FileCheck %s
// RUN: kvant-opt %s --mlir-print-op-generic | kvant-opt | FileCheck %s

// CHECK-LABEL: func.func @weights
func.func @weights() {
  // CHECK: qt.weight "blk.0.attn_q.weight" at 1048576 : !qt.tensor<64x64, #qt.gguf<q8_0>>
  %0 = qt.weight "blk.0.attn_q.weight" at 1048576 : !qt.tensor<64x64, #qt.gguf<q8_0>>
  // CHECK: qt.weight "blk.0.ffn_down.weight" : !qt.tensor<64x256, #qt.gguf<q4_k>>
  %1 = qt.weight "blk.0.ffn_down.weight" : !qt.tensor<64x256, #qt.gguf<q4_k>>
  // CHECK: qt.weight "output_norm.weight" : tensor<64xf32>
  %2 = qt.weight "output_norm.weight" : tensor<64xf32>
  // CHECK: !qt.tensor<2x256, #qt.grouped<!qt.ternary, group = 256, scale = f16>>
  %3 = qt.weight "t" : !qt.tensor<2x256, #qt.grouped<!qt.ternary, group = 256, scale = f16>>
  // CHECK: !qt.tensor<2x64, #qt.grouped<f8E4M3FN, group = 32, scale = f16>>
  %4 = qt.weight "f8" : !qt.tensor<2x64, #qt.grouped<f8E4M3FN, group = 32, scale = f16>>
  // CHECK: !qt.tensor<2x64, #qt.grouped<f4E2M1FN, group = 32, scale = f16>>
  %5 = qt.weight "f4" : !qt.tensor<2x64, #qt.grouped<f4E2M1FN, group = 32, scale = f16>>
  // CHECK: !qt.tensor<4x32, #qt.gguf<iq4_nl>>
  %6 = qt.weight "nl" : !qt.tensor<4x32, #qt.gguf<iq4_nl>>
  // CHECK: !qt.tensor<4x256, #qt.gguf<q6_k>>
  %7 = qt.weight "q6" : !qt.tensor<4x256, #qt.gguf<q6_k>>
  // The compute layout with rows interleaved; 1 is the file's and prints as
  // the plain format.
  // CHECK: !qt.tensor<16x64, #qt.gguf<q4_0, interleave = 8>>
  %8 = qt.weight "i8" : !qt.tensor<16x64, #qt.gguf<q4_0, interleave = 8>>
  // CHECK: !qt.tensor<16x64, #qt.gguf<q4_0>>
  %9 = qt.weight "i1" : !qt.tensor<16x64, #qt.gguf<q4_0, interleave = 1>>
  return
}

// CHECK-LABEL: func.func @quantize_roundtrip
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>)
func.func @quantize_roundtrip(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // CHECK: %[[Q:.*]] = qt.quantize %[[X]] : tensor<?x64xf32> -> !qt.tensor<?x64, #qt.grouped<i8, group = 32, scale = f32>>
  %q = qt.quantize %x : tensor<?x64xf32> -> !qt.tensor<?x64, #qt.grouped<i8, group = 32, scale = f32>>
  // CHECK: qt.dequantize %[[Q]] : !qt.tensor<?x64, #qt.grouped<i8, group = 32, scale = f32>> -> tensor<?x64xf32>
  %d = qt.dequantize %q : !qt.tensor<?x64, #qt.grouped<i8, group = 32, scale = f32>> -> tensor<?x64xf32>
  return %d : tensor<?x64xf32>
}

// CHECK-LABEL: func.func @assemble
func.func @assemble(%v: tensor<8x64xi4>, %s: tensor<8x2xf16>, %z: tensor<8x2xi8>, %v8: tensor<8x64xi8>, %s32: tensor<8x1xf32>) {
  // CHECK: qt.assemble values(%{{.*}} : tensor<8x64xi4>) scales(%{{.*}} : tensor<8x2xf16>) zeros(%{{.*}} : tensor<8x2xi8>) : !qt.tensor<8x64, #qt.grouped<i4, group = 32, scale = f16, zero = i8>>
  %a = qt.assemble values(%v : tensor<8x64xi4>) scales(%s : tensor<8x2xf16>) zeros(%z : tensor<8x2xi8>) : !qt.tensor<8x64, #qt.grouped<i4, group = 32, scale = f16, zero = i8>>
  // CHECK: qt.assemble values(%{{.*}} : tensor<8x64xi8>) scales(%{{.*}} : tensor<8x1xf32>) : !qt.tensor<8x64, #qt.grouped<i8, group = 64, scale = f32>>
  %b = qt.assemble values(%v8 : tensor<8x64xi8>) scales(%s32 : tensor<8x1xf32>) : !qt.tensor<8x64, #qt.grouped<i8, group = 64, scale = f32>>
  return
}

// CHECK-LABEL: func.func @matmul
func.func @matmul(%x: tensor<4x64xf32>, %xb: tensor<2x?x64xf16>) -> tensor<4x128xf32> {
  %w = qt.weight "w" : !qt.tensor<128x64, #qt.gguf<q4_0>>
  // CHECK: qt.matmul %{{.*}}, %{{.*}} : tensor<4x64xf32>, !qt.tensor<128x64, #qt.gguf<q4_0>> -> tensor<4x128xf32>
  %y = qt.matmul %x, %w : tensor<4x64xf32>, !qt.tensor<128x64, #qt.gguf<q4_0>> -> tensor<4x128xf32>
  // CHECK: qt.matmul %{{.*}}, %{{.*}} : tensor<2x?x64xf16>, !qt.tensor<128x64, #qt.gguf<q4_0>> -> tensor<2x?x128xf16>
  %z = qt.matmul %xb, %w : tensor<2x?x64xf16>, !qt.tensor<128x64, #qt.gguf<q4_0>> -> tensor<2x?x128xf16>
  return %y : tensor<4x128xf32>
}

// CHECK-LABEL: func.func @pack_unpack
func.func @pack_unpack(%v: tensor<4x64xi4>, %t: tensor<?x16xi2>) -> (tensor<4x32xi8>, tensor<?x4xi8>) {
  // CHECK: qt.pack %{{.*}} : tensor<4x64xi4> -> tensor<4x32xi8>
  %b = qt.pack %v : tensor<4x64xi4> -> tensor<4x32xi8>
  // CHECK: qt.pack %{{.*}} : tensor<?x16xi2> -> tensor<?x4xi8>
  %c = qt.pack %t : tensor<?x16xi2> -> tensor<?x4xi8>
  return %b, %c : tensor<4x32xi8>, tensor<?x4xi8>
}

// CHECK-LABEL: func.func @unpack
func.func @unpack(%b: tensor<32xi8>) -> tensor<256xi1> {
  // CHECK: qt.unpack %{{.*}} : tensor<32xi8> -> tensor<256xi1>
  %v = qt.unpack %b : tensor<32xi8> -> tensor<256xi1>
  return %v : tensor<256xi1>
}

// CHECK-LABEL: func.func @bytes
func.func @bytes(%b: tensor<128x68xi8>, %f: tensor<?x4x32xf32>) -> tensor<?x4x18xi8> {
  // CHECK: qt.from_bytes %{{.*}} : tensor<128x68xi8> -> !qt.tensor<128x64, #qt.gguf<q8_0>>
  %w = qt.from_bytes %b : tensor<128x68xi8> -> !qt.tensor<128x64, #qt.gguf<q8_0>>
  %x = qt.quantize %f : tensor<?x4x32xf32> -> !qt.tensor<?x4x32, #qt.gguf<q4_0>>
  // CHECK: qt.to_bytes %{{.*}} : !qt.tensor<?x4x32, #qt.gguf<q4_0>> -> tensor<?x4x18xi8>
  %y = qt.to_bytes %x : !qt.tensor<?x4x32, #qt.gguf<q4_0>> -> tensor<?x4x18xi8>
  return %y : tensor<?x4x18xi8>
}

// CHECK-LABEL: func.func @dot_i8
func.func @dot_i8(%w: vector<32xi8>, %x: vector<32xi8>) -> vector<8xi32> {
  // CHECK: %[[D:.*]] = qt.dot_i8 %{{.*}}, %{{.*}} : vector<32xi8> -> vector<8xi32>
  %d = qt.dot_i8 %w, %x : vector<32xi8> -> vector<8xi32>
  return %d : vector<8xi32>
}

// CHECK-LABEL: func.func @prefetch
// CHECK-SAME: (%[[B:.*]]: tensor<8x2x34xi8>, %[[I:.*]]: index, %[[J:.*]]: index)
func.func @prefetch(%b: tensor<8x2x34xi8>, %i: index, %j: index) {
  // CHECK: qt.prefetch %[[B]][%[[I]], %[[J]], %{{.*}}] : tensor<8x2x34xi8>
  %c0 = arith.constant 0 : index
  qt.prefetch %b[%i, %j, %c0] : tensor<8x2x34xi8>
  return
}

// CHECK-LABEL: func.func @dot_i8_sum
func.func @dot_i8_sum(%q0: vector<32xi8>, %q1: vector<32xi8>, %x0: vector<32xi8>, %x1: vector<32xi8>) -> vector<8xi32> {
  // CHECK: qt.dot_i8_sum %{{.*}}, %{{.*}} x %{{.*}}, %{{.*}} {lhs_max = 3 : i64} : (vector<32xi8>, vector<32xi8>) x (vector<32xi8>, vector<32xi8>) -> vector<8xi32>
  %d = qt.dot_i8_sum %q0, %q1 x %x0, %x1 {lhs_max = 3} : (vector<32xi8>, vector<32xi8>) x (vector<32xi8>, vector<32xi8>) -> vector<8xi32>
  return %d : vector<8xi32>
}

// CHECK-LABEL: func.func @dot_i8_scaled
func.func @dot_i8_scaled(%w: vector<32xi8>, %x: vector<32xi8>, %s: i32) -> vector<8xi32> {
  // CHECK: qt.dot_i8 %{{.*}}, %{{.*}} scale %{{.*}} {unsigned_lhs} : vector<32xi8> -> vector<8xi32>
  %d = qt.dot_i8 %w, %x scale %s {unsigned_lhs} : vector<32xi8> -> vector<8xi32>
  return %d : vector<8xi32>
}

// CHECK-LABEL: func.func @dot_i8_scaled_halves
func.func @dot_i8_scaled_halves(%w: vector<32xi8>, %x: vector<32xi8>, %s: i32, %h: i32) -> vector<8xi32> {
  // CHECK: qt.dot_i8 %{{.*}}, %{{.*}} scale %arg2 high %arg3 {unsigned_lhs} : vector<32xi8> -> vector<8xi32>
  %d = qt.dot_i8 %w, %x scale %s high %h {unsigned_lhs} : vector<32xi8> -> vector<8xi32>
  return %d : vector<8xi32>
}

// CHECK-LABEL: func.func @lookup_i8
func.func @lookup_i8(%i: vector<32xi8>) -> vector<32xi8> {
  // CHECK: qt.lookup_i8 %{{.*}} [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12] : vector<32xi8>
  %q = qt.lookup_i8 %i [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12] : vector<32xi8>
  return %q : vector<32xi8>
}
