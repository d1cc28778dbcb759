// RUN: kvant-opt %s --qt-lower-to-linalg --split-input-file --verify-diagnostics

// Formats without a decoder are reported, never left half-lowered.

// q8_1 and q8_k are the formats llama.cpp quantizes activations to.
func.func @matmul_q8_1(%x: tensor<1x64xf32>) -> tensor<1x4xf32> {
  %w = qt.weight "w" : !qt.tensor<4x64, #qt.gguf<q8_1>>
  // expected-error @+1 {{'qt.matmul' op lowering of q8_1 to linalg is not implemented yet}}
  %y = qt.matmul %x, %w : tensor<1x64xf32>, !qt.tensor<4x64, #qt.gguf<q8_1>> -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

func.func @dequantize_q8_k() -> tensor<4x256xf32> {
  %w = qt.weight "w" : !qt.tensor<4x256, #qt.gguf<q8_k>>
  // expected-error @+1 {{'qt.dequantize' op lowering of q8_k to linalg is not implemented yet}}
  %d = qt.dequantize %w : !qt.tensor<4x256, #qt.gguf<q8_k>> -> tensor<4x256xf32>
  return %d : tensor<4x256xf32>
}

// -----

func.func @dequantize_grouped(%q: !qt.tensor<4x64, #qt.grouped<i8, group = 32, scale = f32>>) -> tensor<4x64xf32> {
  // expected-error @+1 {{'qt.dequantize' op lowering of grouped i8 (group 32) to linalg is not implemented yet}}
  %d = qt.dequantize %q : !qt.tensor<4x64, #qt.grouped<i8, group = 32, scale = f32>> -> tensor<4x64xf32>
  return %d : tensor<4x64xf32>
}

// -----

// Interleaved rows are read by qt-lower-matmul-to-vector's int8 GEMVs only.
func.func @matmul_interleaved(%x: tensor<1x64xf32>) -> tensor<1x8xf32> {
  %w = qt.weight "w" : !qt.tensor<8x64, #qt.gguf<q4_0, interleave = 8>>
  // expected-error @+1 {{'qt.matmul' op lowering of q4_0 (rows interleaved by 8) to linalg is not implemented yet}}
  %y = qt.matmul %x, %w : tensor<1x64xf32>, !qt.tensor<8x64, #qt.gguf<q4_0, interleave = 8>> -> tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}
