func.func @f(%x: tensor<4x64xf32>) -> tensor<4x64xf32> {
  %w = qt.weight "w" : !qt.tensor<64x64, #qt.gguf<q8_0
