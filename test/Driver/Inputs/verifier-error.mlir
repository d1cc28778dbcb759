// Shapes that parse but do not agree.
func.func @f(%x: tensor<4x32xf32>) -> tensor<4x16xf32> {
  %w = qt.weight "w" : !qt.tensor<16x64, #qt.gguf<q8_0>>
  %y = qt.matmul %x, %w : tensor<4x32xf32>, !qt.tensor<16x64, #qt.gguf<q8_0>> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}
