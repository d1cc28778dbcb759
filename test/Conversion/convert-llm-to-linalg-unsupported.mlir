// RUN: kvant-opt %s --convert-llm-to-linalg --split-input-file -verify-diagnostics

// Rows of a group-wise scheme have no byte layout to gather.
func.func @embedding_grouped(%table: !qt.tensor<100x64, #qt.grouped<i8, group = 32, scale = f32>>, %tokens: tensor<?xi32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{cannot gather rows of a #qt.grouped<i8, group = 32, scale = f32> table: only GGUF block formats are gathered by their bytes}}
  %0 = llm.embedding %table, %tokens : !qt.tensor<100x64, #qt.grouped<i8, group = 32, scale = f32>>, tensor<?xi32> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

func.func @rope_dynamic_head_dim(%x: tensor<?x2x?xf32>, %pos: tensor<?xi32>) -> tensor<?x2x?xf32> {
  // expected-error @+1 {{needs a static head dimension or rotary_dim to be lowered}}
  %0 = llm.rope normal %x, %pos theta = 1.0e4 : tensor<?x2x?xf32>, tensor<?xi32>
  return %0 : tensor<?x2x?xf32>
}
