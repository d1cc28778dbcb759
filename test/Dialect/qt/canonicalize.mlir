// RUN: kvant-opt %s -canonicalize | FileCheck %s

// CHECK-LABEL: func.func @unpack_of_pack
// CHECK-SAME: (%[[V:.*]]: tensor<4x64xi4>)
func.func @unpack_of_pack(%v: tensor<4x64xi4>) -> tensor<4x64xi4> {
  // CHECK-NOT: qt.pack
  // CHECK-NOT: qt.unpack
  // CHECK: return %[[V]]
  %b = qt.pack %v : tensor<4x64xi4> -> tensor<4x32xi8>
  %u = qt.unpack %b : tensor<4x32xi8> -> tensor<4x64xi4>
  return %u : tensor<4x64xi4>
}

// CHECK-LABEL: func.func @pack_of_unpack
// CHECK-SAME: (%[[B:.*]]: tensor<32xi8>)
func.func @pack_of_unpack(%b: tensor<32xi8>) -> tensor<32xi8> {
  // CHECK-NEXT: return %[[B]]
  %u = qt.unpack %b : tensor<32xi8> -> tensor<128xi2>
  %p = qt.pack %u : tensor<128xi2> -> tensor<32xi8>
  return %p : tensor<32xi8>
}

// Dequantizing then quantizing is lossy in general and is kept.
// CHECK-LABEL: func.func @keep_lossy_roundtrip
func.func @keep_lossy_roundtrip(%x: tensor<4x32xf32>) -> tensor<4x32xf32> {
  // CHECK: qt.quantize
  // CHECK: qt.dequantize
  %q = qt.quantize %x : tensor<4x32xf32> -> !qt.tensor<4x32, #qt.gguf<q4_0>>
  %d = qt.dequantize %q : !qt.tensor<4x32, #qt.gguf<q4_0>> -> tensor<4x32xf32>
  return %d : tensor<4x32xf32>
}

// CHECK-LABEL: func.func @bytes_roundtrip
// CHECK-SAME: (%[[B:.*]]: tensor<8x36xi8>)
func.func @bytes_roundtrip(%b: tensor<8x36xi8>) -> tensor<8x36xi8> {
  // CHECK-NEXT: return %[[B]]
  %w = qt.from_bytes %b : tensor<8x36xi8> -> !qt.tensor<8x64, #qt.gguf<q4_0>>
  %c = qt.to_bytes %w : !qt.tensor<8x64, #qt.gguf<q4_0>> -> tensor<8x36xi8>
  return %c : tensor<8x36xi8>
}
