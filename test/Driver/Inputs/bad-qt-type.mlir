// A block format whose block does not divide the row.
func.func @f() {
  %w = qt.weight "w" : !qt.tensor<4x30, #qt.gguf<q4_0>>
  return
}
